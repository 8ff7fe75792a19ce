"""The GraphiQL playground page, served from our own static files (ADR 0024).

GraphiQL, React and ReactDOM are fetched once by `.ci/vendor-static` (npm, pinned sha256) into
frontend/static/vendor/; the page loads only those files and frontend/static/playground.js, so it
works with no internet and under a CSP with no outside host. When the files are not there (no
npm at install time) the page says how to get them instead of showing a blank screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.settings import ROOT

STATIC = ROOT / "frontend" / "static"
GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"
# In load order: GraphiQL's browser build expects React and ReactDOM as globals.
VENDOR_SCRIPTS = (
    f"vendor/react-{REACT_VERSION}.production.min.js",
    f"vendor/react-dom-{REACT_VERSION}.production.min.js",
    f"vendor/graphiql-{GRAPHIQL_VERSION}.min.js",
)
VENDOR_STYLESHEETS = (f"vendor/graphiql-{GRAPHIQL_VERSION}.min.css",)
VENDOR_COMMAND = "bash .ci/vendor-static"


@dataclass(frozen=True, slots=True)
class PlaygroundAssets:
    """What the page links to, under /static, and which of those files are missing."""

    scripts: tuple[str, ...]
    stylesheets: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def installed(self) -> bool:
        """Every vendored file is there."""
        return not self.missing


def playground_assets() -> PlaygroundAssets:
    """The vendored files of the page, checked on disk at each render (vendoring needs no
    restart)."""
    wanted = (*VENDOR_SCRIPTS, *VENDOR_STYLESHEETS)
    missing = tuple(path for path in wanted if not (STATIC / path).is_file())
    return PlaygroundAssets(VENDOR_SCRIPTS, VENDOR_STYLESHEETS, missing)


def playground_context() -> dict[str, object]:
    """The template context of frontend/templates/playground.html."""
    return {"assets": playground_assets(), "vendor_command": VENDOR_COMMAND}
