"""The committed schema.graphql is the schema the code builds; `oo export-schema --check` agrees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.fixtures import ROOT

OO = str(Path(sys.executable).parent / "oo")


def test_committed_sdl_matches_the_code() -> None:
    from backend.schema import schema

    committed = (ROOT / "schema.graphql").read_text()
    assert schema.as_str().rstrip() + "\n" == committed, (
        "schema.graphql is stale: run `oo export-schema -o schema.graphql`"
    )


def test_export_schema_check_passes() -> None:
    done = subprocess.run(
        [OO, "export-schema", "--check"],
        env=dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "schema.graphql is up to date" in done.stdout


def test_export_schema_check_fails_on_drift(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text((ROOT / "schema.graphql").read_text().replace("tip: Tip", "tip: Tip!"))
    done = subprocess.run(
        [OO, "export-schema", "--check", "-o", str(stale)],
        env=dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
        check=False,
    )
    assert done.returncode != 0  # `oo` exits 2 on refusals (the --help text still says 1)
    assert "out of date" in done.stderr
    assert "Traceback" not in done.stderr


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    done = subprocess.run(
        [OO, "export-schema", "-o", str(target)],
        env=dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_text() == (ROOT / "schema.graphql").read_text()
