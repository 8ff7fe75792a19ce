"""Each kind of tip on the black page in real Chromium: its label, its own look, its own
answers (buttons, keys, aria labels), and the answer stored as given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_tip_page import (
    CHROMIUM,
    DESKTOP,
    _sign_in_path,
    feedback_for,
    open_page,
    run_db,
    wait_for_swap,
)
from tests.support.fixtures import LiveServer, make_person
from tests.support.served import serve_kind

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not installed at {CHROMIUM}"),
]

# kind -> (label, [(value, button text, key)], the answer pressed by key, stored effect)
KINDS = {
    "task": ("task", [("done", "done", "d"), ("snooze", "snooze", "s"), ("dismiss", "dismiss", "x")],
             "s", "snooze"),
    "advice": ("advice", [("helpful", "helpful", "h"), ("not_now", "not now", "n"),
                          ("not_for_me", "not for me", "x")], "h", "done"),
    "insight": ("insight", [("true", "true", "t"), ("not_really", "not really", "n"),
                            ("dismiss", "dismiss", "x")], "n", "dismiss"),
    "reminder": ("reminder", [("done", "done", "d"), ("later", "later", "l"),
                              ("dismiss", "dismiss", "x")], "l", "snooze"),
}  # fmt: skip


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    p = open_page(browser, live_server, DESKTOP)
    yield p
    p.context.close()


def open_tip_of_kind(page: Page, server: LiveServer, kind: str) -> str:
    """A new person (no tasks) with one served tip of `kind`, signed in on /tip."""
    person = run_db(make_person(tasks=False))
    tip_id = run_db(serve_kind(person.user_id, kind, drop_cached=False))
    page.goto(server.url + run_db(_sign_in_path(person.user_id)))
    assert urlsplit(page.url).path == "/tip"
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    expect(page.locator("#tip")).to_have_attribute("data-tip-id", tip_id)
    return tip_id


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_has_its_label_buttons_and_keys(
    page: Page, live_server: LiveServer, kind: str
) -> None:
    label, buttons, key, effect = KINDS[kind]
    tip_id = open_tip_of_kind(page, live_server, kind)
    expect(page.locator("#tip")).to_have_attribute("data-kind", kind)
    expect(page.locator("#tip .tip-kind")).to_have_text(label)
    shown = page.locator("#tip .actions button")
    expect(shown).to_have_count(len(buttons))
    for i, (value, text, k) in enumerate(buttons):
        button = shown.nth(i)
        expect(button).to_have_attribute("value", value)
        expect(button).to_have_text(text)
        expect(button).to_have_attribute("aria-keyshortcuts", k)
        aria = button.get_attribute("aria-label") or ""
        assert aria.strip(), f"{value} has an aria label"
    # The buttons fit on the row (long labels wrap inside the circle).
    assert all((shown.nth(i).bounding_box() or {"width": 999})["width"] <= 90 for i in range(3))

    page.wait_for_timeout(200)  # some visible time on the tip
    page.keyboard.press(key)
    wait_for_swap(page, tip_id)
    row = feedback_for(tip_id)
    pressed = next(value for value, _text, k in buttons if k == key)
    assert (row["answer"], row["action"]) == (pressed, effect)
    assert row["dwell_source"] == "client"


def test_kinds_look_different(page: Page, live_server: LiveServer) -> None:
    looks = {}
    for kind in KINDS:
        open_tip_of_kind(page, live_server, kind)
        looks[kind] = page.evaluate(
            """() => {
              const c = document.querySelector('#tip .tip-content');
              const b = document.querySelector('#tip .tip-body');
              const s = getComputedStyle(c);
              return [s.fontStyle, s.fontWeight, s.color, getComputedStyle(c, '::before').content,
                      getComputedStyle(b).borderLeftWidth].join('|');
            }"""
        )
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"
    assert len(set(looks.values())) == len(KINDS), looks
    assert looks["advice"].startswith("italic")


def test_another_kinds_key_does_nothing(page: Page, live_server: LiveServer) -> None:
    tip_id = open_tip_of_kind(page, live_server, "advice")
    page.keyboard.press("d")  # a task's "done" key: advice has no such answer
    page.keyboard.press("t")  # an insight's
    page.wait_for_timeout(300)  # nothing should happen: no swap to wait for
    expect(page.locator("#tip")).to_have_attribute("data-tip-id", tip_id)
