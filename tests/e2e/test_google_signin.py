"""A full Google sign-in in real Chromium: sign-in page → stand-in consent → back → tip page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.test_tip_page import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.support.fixtures import LiveServer
from tests.support.idp_google import GoogleStandIn

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not installed at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def test_google_sign_in_in_chromium(
    chromium: Browser, signin_server: LiveServer, google_idp: GoogleStandIn
) -> None:
    google_idp.next_account = "ada@example.com"
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{signin_server.url}/signin")
    page.locator("#google-signin").click()
    page.wait_for_url(f"{google_idp.url}/**")
    expect(page.locator("#approve")).to_be_visible()
    page.locator("#approve").click()
    page.wait_for_url(f"{signin_server.url}/tip")
    assert urlsplit(page.url).path == "/tip"
    expect(page.locator("#tip")).to_be_visible()
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["sid"]["httpOnly"] is True
    assert cookies["sid"]["sameSite"] == "Lax"
    context.close()
