"""Keyboard, focus and motion on the pages a person sees, in Chromium: a "Skip to content" link
first on every page, the tip page's Tab order with a visible ring on each stop and named answers,
nothing on the tip page overlapping, and no transition left under prefers-reduced-motion."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.e2e.test_person_pages import _context_page, _settled
from tests.e2e.test_tip_page import DESKTOP, PHONE, sign_in
from tests.e2e.test_tip_page import pytestmark as tip_page_marks
from tests.support.fixtures import LiveServer

pytestmark = tip_page_marks  # browser marker, skipped where Chromium is missing


# What Tab reaches on the tip page, in order: the skip link, the way off, "why?", the answers.
TIP_PAGE_TAB_ORDER = [
    "a.skip",
    "a[href='/connect']",
    "a[href='/settings']",
    "a[href='/data']",
    "a[href='/account']",
    "button.why",
    "button[value='done']",
    "button[value='snooze']",
    "button[value='dismiss']",
]
FOCUSED = """sels => {
  const e = document.activeElement;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return { match: sels.find(sel => e.matches(sel)) || e.outerHTML.slice(0, 80),
    outline: [s.outlineStyle, parseFloat(s.outlineWidth)], color: s.outlineColor,
    visible: r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight,
    name: e.getAttribute('aria-label') || e.textContent.trim() };
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_keyboard_reaches_the_answers_in_order_with_a_visible_ring(
    browser: Browser, live_server: LiveServer, viewport: ViewportSize
) -> None:
    p = _context_page(browser, viewport)
    try:
        sign_in(p, live_server)
        seen = []
        for _ in TIP_PAGE_TAB_ORDER:
            p.keyboard.press("Tab")
            seen.append(p.evaluate(FOCUSED, TIP_PAGE_TAB_ORDER))
        assert [f["match"] for f in seen] == TIP_PAGE_TAB_ORDER
        for f in seen:
            assert f["visible"], f"{f['match']} is on screen when focused"
            style, width = f["outline"]
            assert style != "none", f"{f['match']} has a focus ring"
            assert width >= 2, f"{f['match']}: ring {width}px"
            assert f["color"] in {"rgb(255, 255, 255)", "rgb(0, 0, 0)"}, f
        answers = seen[-3:]
        assert [a["name"] for a in answers] == [
            "Done: I did it (d)",
            "Snooze: ask me later (s)",
            "Dismiss: not this one (x)",
        ], "each answer says what it does, and its key"
    finally:
        p.context.close()


@pytest.mark.parametrize("path", ["/tip", "/settings", "/account"])
def test_skip_link_shows_on_focus_and_jumps_into_the_page(
    browser: Browser, live_server: LiveServer, path: str
) -> None:
    p = _context_page(browser, PHONE)
    try:
        sign_in(p, live_server)
        p.goto(live_server.url + path)
        _settled(p)
        skip = p.locator("a.skip")
        box = skip.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= 0, "hidden above the page until focused"
        p.keyboard.press("Tab")
        expect(skip).to_be_focused()
        expect(skip).to_have_text("Skip to content")
        expect(skip).to_be_in_viewport()
        p.keyboard.press("Enter")
        p.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
        p.keyboard.press("Tab")
        inside = p.evaluate(
            "() => document.getElementById('main').contains(document.activeElement)"
        )
        assert inside, "the next Tab starts inside the page's content, past the navigation"
    finally:
        p.context.close()


DURATIONS = """() => {
  const all = [...document.querySelectorAll('*')];
  const moving = all.filter(e => {
    const s = getComputedStyle(e);
    const t = s.transitionDuration.split(',').some(d => parseFloat(d) > 0);
    const a = s.animationName !== 'none' && s.animationDuration.split(',').some(d => parseFloat(d) > 0);
    return t || a;
  });
  return { reduce: matchMedia('(prefers-reduced-motion: reduce)').matches,
    moving: moving.slice(0, 5).map(e => e.tagName + '.' + e.className) , count: moving.length };
}"""


@pytest.mark.parametrize("path", ["/tip", "/settings"])
def test_reduced_motion_turns_every_transition_off(
    browser: Browser, live_server: LiveServer, path: str
) -> None:
    normal = _context_page(browser, DESKTOP)
    calm = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    calm.set_default_timeout(10_000)
    try:
        sign_in(normal, live_server)
        normal.goto(live_server.url + path)
        _settled(normal)
        before = normal.evaluate(DURATIONS)
        assert not before["reduce"]
        assert before["count"] > 0, "the page does move without the preference"

        p = calm.new_page()
        sign_in(p, live_server)
        p.goto(live_server.url + path)
        _settled(p)
        after = p.evaluate(DURATIONS)
        assert after["reduce"]
        assert after["count"] == 0, after["moving"]
    finally:
        normal.context.close()
        calm.close()


OVERLAPS = """() => {
  const sels = ['.corner a', '.tip-kind', '.tip-content', '.tip-meta', 'button.why',
                '.actions .act', '.notify-me'];
  const boxes = [];
  for (const s of sels) for (const e of document.querySelectorAll(s)) {
    const r = e.getBoundingClientRect();
    if (r.width && r.height && !e.hidden && getComputedStyle(e).visibility !== 'hidden') {
      boxes.push([s + ':' + e.textContent.trim().slice(0, 12), r]);
    }
  }
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, p] = boxes[i], [b, q] = boxes[j];
    if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) {
      hits.push(a + ' overlaps ' + b);
    }
  }
  return hits;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_nothing_on_the_tip_page_overlaps(
    browser: Browser, live_server: LiveServer, viewport: ViewportSize
) -> None:
    p = _context_page(browser, viewport)
    try:
        sign_in(p, live_server)
        # "notify me" is pinned under the answers once push.js finds the browser can push.
        expect(p.locator(".notify-me")).to_be_visible()
        assert p.evaluate(OVERLAPS) == []
    finally:
        p.context.close()
