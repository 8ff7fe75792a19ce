"""The discreet "why?" on the tip page: the ? key, a click, or a long press shows one line."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_tip_page import (  # noqa: F401 - fixtures are used by name
    page,
    sign_in,
    tip_id,
    wait_for_swap,
)
from tests.e2e.test_tip_page import pytestmark as tip_page_marks
from tests.support.fixtures import LiveServer

pytestmark = tip_page_marks  # browser marker, skipped where Chromium is missing


def test_why_key_click_and_long_press(page: Page, live_server: LiveServer) -> None:  # noqa: F811
    sign_in(page, live_server)
    why = page.locator("#tip-why")
    expect(why).to_be_hidden()

    page.keyboard.press("?")
    expect(why).to_be_visible()
    assert why.inner_text().strip().endswith(".")
    expect(page.locator("#tip .why")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("?")
    expect(why).to_be_hidden()

    page.locator("#tip .why").click()
    expect(why).to_be_visible()
    page.locator("#tip .why").click()
    expect(why).to_be_hidden()

    box = page.locator("#tip .tip-content").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(800)
    page.mouse.up()
    expect(why).to_be_visible()

    # The next tip starts with its reason folded away again.
    first = tip_id(page)
    page.keyboard.press("s")
    assert wait_for_swap(page, first)
    expect(page.locator("#tip-why")).to_be_hidden()
