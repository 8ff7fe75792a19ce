"""The house rules are enforced: import-linter keeps them today, and breaks when a forbidden
import is added (checked on a copy of the code, one forbidden import at a time)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backend.settings import ROOT

LINT = str(Path(sys.executable).parent / "lint-imports")

# (file to touch, import to add, the contract that must break)
VIOLATIONS = [
    (
        "backend/recommender/decisions.py",
        "from backend.llm import service as _llm",
        "The recommender imports no domain",
    ),
    (
        "backend/graphql/context.py",
        "from backend.identity import service as _identity",
        "The GraphQL kernel, contracts and infrastructure import no domain",
    ),
    (
        "backend/profile/web.py",
        "from agents import registry as _agents",
        "Pages do not import agents",
    ),
    (
        "agents/momentum/__init__.py",
        "import strawberry as _strawberry",
        "Agents import neither GraphQL nor pages",
    ),
    (
        "backend/privacy/service.py",
        "from backend import schema as _schema",
        "No page or domain imports the schema composer",
    ),
    (
        "backend/identity/service.py",
        "from backend.privacy import service as _privacy",
        "Floors:",
    ),
]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT, "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the code the linter reads (backend, agents, worker and the config)."""
    root = tmp_path_factory.mktemp("house")
    for package in ("backend", "agents", "worker"):
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_contracts_are_kept(house: Path) -> None:
    result = _lint(house)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("path", "line", "contract"), VIOLATIONS)
def test_a_forbidden_import_breaks_its_contract(
    house: Path, path: str, line: str, contract: str
) -> None:
    target = house / path
    original = target.read_text()
    target.write_text(original + f"\n{line}  # noqa\n")
    try:
        result = _lint(house)
    finally:
        target.write_text(original)
    assert result.returncode == 1, result.stdout[-3000:]
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout[-3000:]
