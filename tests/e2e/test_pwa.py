"""The installable app in real Chromium (ADR 0024): the manifest parses without a complaint and
carries what an install needs, the service worker activates and precaches the app shell under
its versioned name, and a navigation with no network shows the offline page."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_tip_page import DESKTOP, sign_in
from tests.support.fixtures import LiveServer

pytestmark = pytest.mark.browser

SHELL_CACHE = "oo-shell-v2"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    p = context.new_page()
    yield p
    context.close()


def png_size(body: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def wait_until_controlled(page: Page) -> None:
    """The service worker is active and controls this page (it claims open pages)."""
    page.wait_for_function(
        """() => navigator.serviceWorker.getRegistration('/').then(r =>
             !!(r && r.active && r.active.state === 'activated'))""",
        polling=100,
    )
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)


def test_the_manifest_is_valid_and_installable(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/signin")
    cdp = page.context.new_cdp_session(page)
    report: dict[str, Any] = cdp.send("Page.getAppManifest")
    assert report["url"] == live_server.url + "/manifest.webmanifest"
    assert report["errors"] == []  # Chromium's own manifest parser has nothing to say
    parsed = page.request.get(live_server.url + "/manifest.webmanifest")
    assert parsed.headers["content-type"].startswith("application/manifest+json")
    manifest = parsed.json()
    assert manifest["name"] == manifest["short_name"] == "oO"
    assert manifest["start_url"] == "/tip"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#000000"
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    for icon in manifest["icons"]:
        response = page.request.get(live_server.url + icon["src"])
        assert response.ok, icon["src"]
        assert response.headers["content-type"].startswith(icon["type"]), icon
        if icon["type"] == "image/png":
            size = png_size(response.body())
            assert f"{size[0]}x{size[1]}" == icon["sizes"], icon
            sizes[(icon.get("purpose", "any"), icon["sizes"])] = size
    assert ("any", "192x192") in sizes
    assert ("any", "512x512") in sizes
    assert ("maskable", "512x512") in sizes


def test_the_service_worker_activates_and_precaches_the_shell(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    wait_until_controlled(page)
    page.wait_for_function("name => caches.has(name)", arg=SHELL_CACHE, polling=100)
    cached: list[str] = page.evaluate(
        """name => caches.open(name).then(c => c.keys())
             .then(rs => rs.map(r => new URL(r.url).pathname))""",
        SHELL_CACHE,
    )
    assert "/static/offline.html" in cached
    assert "/static/app.css" in cached
    names: list[str] = page.evaluate("caches.keys()")
    assert [n for n in names if n.startswith("oo-shell-")] == [SHELL_CACHE]


def test_offline_navigation_shows_the_offline_page(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    wait_until_controlled(page)
    page.wait_for_function("name => caches.has(name)", arg=SHELL_CACHE, polling=100)
    page.context.set_offline(True)
    try:
        page.goto(live_server.url + "/settings")
        expect(page.locator("#offline")).to_contain_text("You are offline")
        # The shell's stylesheet came from the cache: the page is drawn, not bare.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.brand')).fontWeight") == "300"
        )
    finally:
        page.context.set_offline(False)
    page.goto(live_server.url + "/settings")
    expect(page.locator("#offline")).to_have_count(0)


def test_activation_deletes_older_shell_caches_only(page: Page, live_server: LiveServer) -> None:
    # The offline page loads no app.js: the origin has caches but no worker yet.
    page.goto(live_server.url + "/static/offline.html")
    page.evaluate("Promise.all([caches.open('oo-shell-v0'), caches.open('someone-else')])")
    assert page.evaluate("navigator.serviceWorker.controller") is None
    page.goto(live_server.url + "/signin")  # app.js registers the worker
    wait_until_controlled(page)
    names: list[str] = page.evaluate("caches.keys()")
    assert SHELL_CACHE in names
    assert "oo-shell-v0" not in names
    assert "someone-else" in names  # not ours to delete
