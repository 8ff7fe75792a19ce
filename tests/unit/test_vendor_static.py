"""The playground page references exactly the files .ci/vendor-static pins and writes (ADR 0024),
and says how to get them when they are missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from backend.graphql import playground
from backend.settings import ROOT

SCRIPT = ROOT / ".ci" / "vendor-static"


def _variables() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(\S+)$", SCRIPT.read_text(), re.M))


def _expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: variables[m.group(1) or m.group(2)], text)


def vendored_files() -> set[str]:
    """What the script copies into $DEST (paths under frontend/static/), its variables expanded."""
    variables = {**_variables(), "DEST": "vendor"}
    text = SCRIPT.read_text().replace("\\\n", " ")
    targets = re.findall(r'"(\$DEST/[^"]+)"', text)
    return {_expand(t, variables) for t in targets}


def pinned_packages() -> dict[str, str]:
    """npm package@version → pinned sha256, as the script checks them."""
    variables = _variables()
    checks = re.findall(r'echo "\$(\w+)  \$tmp/([\w.-]+)-\$(\w+)\.tgz"', SCRIPT.read_text())
    return {f"{name}@{variables[version]}": variables[sha] for sha, name, version in checks}


def render(assets: playground.PlaygroundAssets) -> str:
    env = Environment(loader=FileSystemLoader(ROOT / "frontend" / "templates"), autoescape=True)
    env.globals["csrf_token"] = lambda: "csrf"
    context = {"assets": assets, "vendor_command": playground.VENDOR_COMMAND}
    return env.get_template("playground.html").render(**context)


def test_the_script_pins_graphiql_and_react_by_sha256() -> None:
    pinned = pinned_packages()
    for package in (
        f"graphiql@{playground.GRAPHIQL_VERSION}",
        f"react@{playground.REACT_VERSION}",
        f"react-dom@{playground.REACT_VERSION}",
    ):
        assert re.fullmatch(r"[0-9a-f]{64}", pinned[package]), package


def test_the_page_references_what_the_script_writes() -> None:
    written = vendored_files()
    html = render(
        playground.PlaygroundAssets(playground.VENDOR_SCRIPTS, playground.VENDOR_STYLESHEETS, ())
    )
    scripts = re.findall(r'<script src="/static/([^"]+)"', html)
    styles = re.findall(r'<link rel="stylesheet" href="/static/([^"]+)"', html)
    vendor_refs = {p for p in scripts + styles if p.startswith("vendor/")}
    assert vendor_refs == set(playground.VENDOR_SCRIPTS) | set(playground.VENDOR_STYLESHEETS)
    assert vendor_refs <= written, vendor_refs - written
    # React before ReactDOM before GraphiQL, our starter last.
    assert scripts == [*playground.VENDOR_SCRIPTS, "playground.js"]
    for path in vendor_refs:  # each with its licence beside it
        assert any(
            w.endswith("LICENSE.txt") and Path(w).name.split("-LICENSE")[0] in Path(path).name
            for w in written
        ), path


def test_the_script_s_skip_check_covers_the_playground_files() -> None:
    """A checkout that already has htmx must still fetch GraphiQL: the early exit checks it."""
    variables = {**_variables(), "DEST": "vendor"}
    skip = SCRIPT.read_text().split("&& exit 0")[0].replace("\\\n", " ")
    checked = {_expand(p, variables) for p in re.findall(r'-f "(\$DEST/[^"]+)"', skip)}
    assert set(playground.VENDOR_SCRIPTS) | set(playground.VENDOR_STYLESHEETS) <= checked


def test_missing_files_are_named_with_the_command_that_fetches_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(playground, "STATIC", tmp_path)
    assets = playground.playground_assets()
    assert not assets.installed
    html = render(assets)
    assert "bash .ci/vendor-static" in html
    assert all(path in html for path in assets.missing)
    assert "<script" not in html  # nothing to load: no blank page waiting on a 404


def test_installed_files_are_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in (*playground.VENDOR_SCRIPTS, *playground.VENDOR_STYLESHEETS):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("/* stand-in */")
    monkeypatch.setattr(playground, "STATIC", tmp_path)
    assert playground.playground_assets().installed
