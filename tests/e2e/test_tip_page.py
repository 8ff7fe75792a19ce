"""The black tip page in real Chromium against `oo serve`: look, swap, keys, phone layout, dwell.

Plain (sync) tests on purpose: Playwright's sync API must not run inside the pytest-asyncio loop,
and database work goes through `run_db`, which runs a coroutine on a fresh loop in a thread of its
own so the session loop and Playwright's loop are never touched.

Set OO_SCREENSHOTS=1 to also write docs/screenshots/tip-page.png and tip-page-phone.png.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    FloatRect,
    Page,
    ViewportSize,
    expect,
)

from tests.support.fixtures import ROOT, DemoPerson, LiveServer, make_person

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not installed at {CHROMIUM}"),
]

T = TypeVar("T")


def run_db(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in a worker thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=60)


async def _sign_in_path(user_id: str) -> str:
    from backend.identity.service import create_sign_in_link

    return urlsplit(await create_sign_in_link(user_id)).path


async def _feedback_for(tip_id: str) -> dict[str, Any] | None:
    from backend.recommender.tables import Feedback

    return await Feedback.select().where(Feedback.tip == tip_id).first()


def feedback_for(tip_id: str) -> dict[str, Any]:
    """The feedback row recorded for a served tip (the request has finished once the swap shows)."""
    row = run_db(_feedback_for(tip_id))
    assert row is not None, f"no feedback row for tip {tip_id}"
    return row


def open_page(browser: Browser, server: LiveServer, viewport: ViewportSize) -> Page:
    """A fresh browser context (no cookies) with one page."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A desktop-sized page in a context of its own."""
    p = open_page(browser, live_server, DESKTOP)
    yield p
    p.context.close()


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A phone-sized page in a context of its own."""
    p = open_page(browser, live_server, PHONE)
    yield p
    p.context.close()


def sign_in(page: Page, server: LiveServer, tasks: bool = True) -> DemoPerson:
    """Create a person and open a one-time sign-in link; lands on /tip."""
    person = run_db(make_person(tasks=tasks))
    path = run_db(_sign_in_path(person.user_id))
    page.goto(server.url + path)
    assert urlsplit(page.url).path == "/tip"
    expect(page.locator("#tip")).to_be_visible()
    # htmx and app.js are deferred: wait until htmx has processed the form.
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    return person


def tip_id(page: Page) -> str:
    """The id of the tip on screen."""
    value = page.locator("#tip").get_attribute("data-tip-id")
    assert value, "a tip is on screen"
    return value


def wait_for_swap(page: Page, old_id: str) -> str:
    """Wait until #tip shows a different tip (or the empty state) and htmx has settled."""
    page.wait_for_function(
        """old => {
          const el = document.getElementById('tip');
          return el && el.getAttribute('data-tip-id') !== old
            && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping');
        }""",
        arg=old_id,
    )
    return page.locator("#tip").get_attribute("data-tip-id") or ""


def test_tip_page_done_swaps_without_reload(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    content = page.locator("#tip .tip-content")
    expect(content).to_be_visible()
    assert content.inner_text().strip()

    body_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert body_bg == "rgb(0, 0, 0)"
    assert content.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    font_px = float(content.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert font_px >= 28, f"tip text is large ({font_px}px)"

    first = tip_id(page)
    page.evaluate("window.__marker = 1")
    page.wait_for_timeout(300)  # some visible time on the tip
    page.get_by_role("button", name="done").click()
    second = wait_for_swap(page, first)

    assert second
    assert second != first
    assert page.evaluate("window.__marker") == 1, "the swap did not reload the page"
    row = feedback_for(first)
    assert row["action"] == "done"
    assert row["dwell_source"] == "client"
    assert row["dwell_ms"] > 0


def test_keyboard_snooze_and_dismiss(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    first = tip_id(page)
    page.keyboard.press("s")
    second = wait_for_swap(page, first)
    assert second
    assert second != first
    assert feedback_for(first)["action"] == "snooze"

    page.keyboard.press("x")
    third = wait_for_swap(page, second)
    assert third
    assert third not in (first, second)
    row = feedback_for(second)
    assert row["action"] == "dismiss"
    assert row["dwell_source"] == "client"


def _button_boxes(page: Page) -> list[FloatRect]:
    boxes = []
    for value in ("done", "snooze", "dismiss"):
        box = page.locator(f'#tip button[value="{value}"]').bounding_box()
        assert box is not None, f"{value} button is rendered"
        boxes.append(box)
    return boxes


def test_phone_layout_fits_and_does_not_jump(phone: Page, live_server: LiveServer) -> None:
    sign_in(phone, live_server)
    width, height = PHONE["width"], PHONE["height"]
    previous = tip_id(phone)
    before = _button_boxes(phone)
    for _ in range(3):  # several tips: different text lengths, same button positions
        for box in before:
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width
            assert box["y"] >= 0
            assert box["y"] + box["height"] <= height
        for value in ("done", "snooze", "dismiss"):
            expect(phone.locator(f'#tip button[value="{value}"]')).to_be_in_viewport()
        overflow = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert overflow[0] <= overflow[1], f"horizontal overflow: {overflow}"
        content = phone.locator("#tip .tip-content")
        assert content.evaluate("e => e.scrollWidth <= e.clientWidth")

        phone.locator('#tip button[value="snooze"]').click()
        current = wait_for_swap(phone, previous)
        assert current, "a next tip is shown"
        after = _button_boxes(phone)
        for old, new in zip(before, after, strict=True):
            assert abs(old["y"] - new["y"]) < 1, f"buttons moved: {old} -> {new}"
            assert abs(old["x"] - new["x"]) < 1, f"buttons moved: {old} -> {new}"
        previous, before = current, after


def test_empty_state(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, tasks=False)
    tip = page.locator("#tip")
    assert tip.get_attribute("data-empty") == "true"
    assert tip.get_attribute("data-tip-id") is None
    expect(tip).to_contain_text("Nothing to do right now.")
    expect(page.locator("#tip button")).to_have_count(0)


HIDE = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_dwell_counts_visible_time_only(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    first = tip_id(page)
    started = time.monotonic()
    page.wait_for_timeout(200)
    page.evaluate(HIDE)
    # Hidden for 6 s: counted, the dwell would be over 6 s. The visible part is well under 5 s
    # even when a loaded machine slows the browser's clicks and renders down.
    page.wait_for_timeout(6_000)
    page.evaluate(SHOW)
    page.wait_for_timeout(200)
    page.get_by_role("button", name="done").click()
    wait_for_swap(page, first)
    elapsed_ms = (time.monotonic() - started) * 1000

    row = feedback_for(first)
    assert row["dwell_source"] == "client"
    assert elapsed_ms > 6_300
    assert 300 <= row["dwell_ms"] < 5_000, f"dwell {row['dwell_ms']} ms of {elapsed_ms:.0f} ms"


def test_screenshots(browser: Browser, live_server: LiveServer) -> None:
    """Write docs/screenshots/tip-page*.png (only with OO_SCREENSHOTS=1)."""
    if os.environ.get("OO_SCREENSHOTS") != "1":
        pytest.skip("set OO_SCREENSHOTS=1 to write docs/screenshots")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for viewport, name in ((DESKTOP, "tip-page.png"), (PHONE, "tip-page-phone.png")):
        p = open_page(browser, live_server, viewport)
        try:
            sign_in(p, live_server)
            p.mouse.move(0, 0)
            p.screenshot(path=str(SCREENSHOTS / name))
        finally:
            p.context.close()
