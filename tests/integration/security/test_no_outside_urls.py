"""No page loads anything from another host (ADR 0024): every person and console page, the
error page, the offline page and the GraphQL playground are rendered and parsed, and every
script, stylesheet, image, font, frame and style `url()` must point at this server. The sources
(frontend/templates and our own frontend/static files) are scanned too, so a template branch a
render does not reach cannot slip one in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.integration.security.support import session_for
from tests.support.fixtures import ROOT, LiveServer, make_person

PERSON_PAGES = [
    "/tip",
    "/settings",
    "/connect",
    "/account",
    "/data",
    "/data/delete-account",
    "/legal/terms",
    "/legal/privacy",
]
ADMIN_PAGES = [
    "/admin",
    "/admin/users",
    "/admin/events",
    "/admin/health",
    "/admin/push",
    "/admin/audit",
    "/admin/policies",
    "/admin/simulations",
    "/admin/decisions",
    "/admin/features",
    "/admin/rewards",
    "/admin/quality",
    "/admin/llm",
    "/admin/sql",
]
ANONYMOUS_PAGES = ["/signin", "/static/offline.html", "/no-such-page"]
OUTSIDE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, //host
CSS_URL = re.compile(r"""(?:url\(|@import\s+)\s*["']?([^"')\s;]+)""", re.I)
# What makes a browser fetch: these attributes, on any element.
LOADING_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction"}
# <a href> leaves the page on a click; it loads nothing by itself.
NAVIGATION_ONLY = {"a", "area"}


class Loads(HTMLParser):
    """Every URL a page makes the browser load: element attributes, style attributes, <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.urls += CSS_URL.findall(value)
            elif name in LOADING_ATTRIBUTES and tag not in NAVIGATION_ONLY:
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += CSS_URL.findall(data)


def outside_loads(html: str) -> list[str]:
    """The URLs of `html` that point at another host."""
    parser = Loads()
    parser.feed(html)
    return [url for url in parser.urls if OUTSIDE.match(url)]


def test_the_parser_catches_what_it_must() -> None:
    """The check itself can fail: each kind of outside load is found, local ones are not."""
    html = (
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" '
        'href="//cdn.example/x.css"><img src="http://img.example/a.png" srcset="/a.png 1x, '
        'https://img.example/b.png 2x"><div style="background:url(https://e.example/c.png)"></div>'
        "<style>@import 'https://fonts.example/f.css'; .a{src:url(/static/f.woff2)}</style>"
        '<script src="/static/app.js"></script><a href="https://example.org/terms">terms</a>'
    )
    assert outside_loads(html) == [
        "https://cdn.example/x.js",
        "//cdn.example/x.css",
        "http://img.example/a.png",
        "https://img.example/b.png",
        "https://e.example/c.png",
        "https://fonts.example/f.css",
    ]


@pytest.fixture
async def admin_cookies() -> dict[str, str]:
    admin = await make_person(tasks=True, role="admin")
    return {"sid": await session_for(admin.user_id)}


def _pages(server: LiveServer, cookies: dict[str, str]) -> Iterator[tuple[str, httpx.Response]]:
    html = {"accept": "text/html"}
    with server.client(headers=html, cookies=cookies) as client:
        for path in [*PERSON_PAGES, *ADMIN_PAGES, "/graphql"]:
            yield path, client.get(path)
    with server.client(headers=html) as client:
        for path in ANONYMOUS_PAGES:
            yield path, client.get(path)


def test_no_served_page_loads_from_another_host(
    live_server: LiveServer, admin_cookies: dict[str, str]
) -> None:
    rendered = 0
    for path, response in _pages(live_server, admin_cookies):
        if path != "/no-such-page":
            assert response.status_code == 200, (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), path
        assert outside_loads(response.text) == [], path
        rendered += 1
    assert rendered == len(PERSON_PAGES) + len(ADMIN_PAGES) + 1 + len(ANONYMOUS_PAGES)


def test_every_person_page_registers_the_service_worker(
    live_server: LiveServer, admin_cookies: dict[str, str]
) -> None:
    """app.js registers /sw.js; every page of a person (and the console) loads it."""
    with live_server.client(cookies=admin_cookies) as client:
        for path in [*PERSON_PAGES, *ADMIN_PAGES]:
            assert '<script src="/static/app.js"' in client.get(path).text, path
    assert (
        'navigator.serviceWorker.register("/sw.js")'
        in (ROOT / "frontend" / "static" / "app.js").read_text()
    )


SOURCE_PATTERNS = [
    re.compile(r"""\b(?:src|href|srcset|poster|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""url\(\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""\b(?:importScripts|fetch)\(\s*["'`](?:https?:)?//""", re.I),
]


def _our_sources() -> Iterator[Path]:
    frontend = ROOT / "frontend"
    vendor = frontend / "static" / "vendor"
    for path in sorted(frontend.rglob("*")):
        if path.is_file() and vendor not in path.parents and path.suffix != ".png":
            yield path


def test_no_template_or_static_file_names_another_host() -> None:
    scanned = 0
    for path in _our_sources():
        text = path.read_text()
        for pattern in SOURCE_PATTERNS:
            found = pattern.search(text)
            assert found is None, f"{path.relative_to(ROOT)}: {found.group(0) if found else ''}"
        scanned += 1
    assert scanned > 20  # templates, scripts, styles, the manifest and the worker were read


def test_the_source_scan_catches_what_it_must() -> None:
    samples = [
        '<script src="https://unpkg.com/react"></script>',
        "<link href='//cdn.example/x.css'>",
        "@import url(https://fonts.example/f.css);",
        "background: url( 'http://e.example/a.png')",
        'importScripts("https://cdn.example/w.js")',
    ]
    for sample in samples:
        assert any(p.search(sample) for p in SOURCE_PATTERNS), sample
    assert not any(p.search('<script src="/static/app.js">') for p in SOURCE_PATTERNS)
