"""The dependency audit (.ci/audit): what fails the test command and what only warns."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def audit_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_report", ROOT / ".ci" / "audit_report.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dep(name: str, *vulns: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1.0",
        "vulns": [{"id": vid, "fix_versions": fixes, "aliases": []} for vid, fixes in vulns],
    }


def test_a_fixable_vulnerability_fails() -> None:
    status, lines = audit_report().judge(
        {"dependencies": [dep("jinja2", ("GHSA-1", ["3.1.5"])), dep("httpx")]}
    )
    assert status == 1
    assert "VULNERABLE jinja2 1.0: GHSA-1 () — fixed in 3.1.5" in lines
    assert lines[-1] == "pip-audit: 2 packages checked, 1 fixable, 0 without a fix, 0 not checked"


def test_no_fix_yet_and_tooling_only_warn() -> None:
    status, lines = audit_report().judge(
        {"dependencies": [dep("a", ("PYSEC-2", [])), dep("setuptools", ("PYSEC-3", ["99"]))]}
    )
    assert status == 0
    assert any(line.startswith("known, no fix yet: a 1.0") for line in lines)
    assert any(line.startswith("WARNING (virtualenv tooling): setuptools") for line in lines)


def test_nothing_audited_is_a_warning() -> None:
    status, lines = audit_report().judge(
        {"dependencies": [{"name": "a", "skip_reason": "Dependency not found on PyPI"}]}
    )
    assert status == 0
    assert lines[-1].startswith("WARNING: no package could be audited")


def test_an_unreachable_service_warns_and_passes(tmp_path: Path) -> None:
    # A "python" that fails at once, as pip-audit does when it cannot reach the service.
    failing = tmp_path / "python"
    failing.write_text("#!/bin/sh\necho 'ConnectionError: no route to pypi' >&2\nexit 1\n")
    failing.chmod(0o755)
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "audit"), str(failing)],
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
        check=False,
    )
    assert done.returncode == 0
    assert "WARNING: pip-audit could not check the dependencies" in done.stdout
    assert "no route to pypi" in done.stdout
