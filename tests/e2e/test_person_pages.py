"""Every page a person sees, in Chromium at 1280×800 and 390×844: axe finds no serious or critical
accessibility problem; /data speaks in words and right counts; settings round-trip through the
real controls; the "why?" line opens without moving the tip.

axe-core is vendored by .ci/vendor-static (pinned sha256, git-ignored); without it the axe test
is skipped. Set OO_SCREENSHOTS=1 to also write docs/screenshots/person-<page>[-phone].png.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.test_tip_page import (  # noqa: F401 - fixtures are used by name
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    page,
    run_db,
    sign_in,
    tip_id,
    wait_for_swap,
)
from tests.e2e.test_tip_page import pytestmark as tip_page_marks
from tests.support.fixtures import ROOT, LiveServer

pytestmark = tip_page_marks  # browser marker, skipped where Chromium is missing

AXE = ROOT / "frontend" / "static" / "vendor" / "axe-4.11.1.min.js"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# name → path, for a signed-in person with tasks (the empty tip and the deleted page apart).
SIGNED_IN_PAGES = {
    "tip": "/tip",
    "account": "/account",
    "connect": "/connect",
    "data": "/data",
    "settings": "/settings",
    "delete-account": "/data/delete-account",
}
PUBLIC_PAGES = {
    "terms": "/legal/terms",
    "privacy": "/legal/privacy",
    "error": "/no-such-page",
    "link-error": "/auth/link/never-issued",
}
SERIOUS = {"serious", "critical"}
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def _context_page(browser: Browser, viewport: ViewportSize) -> Page:
    # axe is evaluated into the page by the test (never served): the CSP must let it run.
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    context.set_default_timeout(10_000)
    return context.new_page()


def _settled(p: Page) -> None:
    p.wait_for_load_state("load")
    p.wait_for_function("() => document.readyState === 'complete'")


def _problems(p: Page, name: str) -> list[str]:
    p.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = p.evaluate(RUN_AXE)
    return [
        f"{name}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def _shoot(p: Page, name: str, viewport: ViewportSize) -> None:
    if os.environ.get("OO_SCREENSHOTS") != "1":
        return
    suffix = "-phone" if viewport == PHONE else ""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SCREENSHOTS / f"person-{name}{suffix}.png"), full_page=True)


def _visit_all(browser: Browser, server: LiveServer, viewport: ViewportSize) -> list[str]:
    problems: list[str] = []
    p = _context_page(browser, viewport)
    try:
        p.goto(server.url + "/signin")
        _settled(p)
        problems += _problems(p, "signin")
        _shoot(p, "signin", viewport)
        for name, path in PUBLIC_PAGES.items():
            p.goto(server.url + path)
            _settled(p)
            problems += _problems(p, name)
            _shoot(p, name, viewport)

        sign_in(p, server)
        for name, path in SIGNED_IN_PAGES.items():
            p.goto(server.url + path)
            _settled(p)
            problems += _problems(p, name)
            _shoot(p, name, viewport)
        p.goto(server.url + "/data/delete-account")
        p.locator("#confirm").fill("DELETE")
        p.get_by_role("button", name="Delete my account").click()
        expect(p.locator("h1")).to_have_text("Your account is deleted")
        problems += _problems(p, "deleted")
        _shoot(p, "deleted", viewport)
    finally:
        p.context.close()

    empty = _context_page(browser, viewport)
    try:
        sign_in(empty, server, tasks=False)
        expect(empty.locator("#tip")).to_have_attribute("data-empty", "true")
        problems += _problems(empty, "empty")
        _shoot(empty, "empty", viewport)
    finally:
        empty.context.close()
    return problems


@pytest.mark.skipif(not AXE.exists(), reason="axe-core not vendored (run .ci/vendor-static)")
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_person_page_passes_axe(
    browser: Browser, live_server: LiveServer, viewport: ViewportSize
) -> None:
    problems = _visit_all(browser, live_server, viewport)
    assert not problems, "\n".join(problems)


def test_data_page_counts_what_people_see(page: Page, live_server: LiveServer) -> None:  # noqa: F811
    sign_in(page, live_server)
    first = tip_id(page)
    page.keyboard.press("d")
    assert wait_for_swap(page, first)
    page.goto(live_server.url + "/data")
    visible = page.locator("main").inner_text()
    assert not UUID.search(visible)
    for machine in ("served_tip", "recommender.", "latency", "hash", "propensity"):
        assert machine not in visible, machine
    expect(page.locator("#cat-tips")).to_contain_text("2 tips shown")
    expect(page.locator("#cat-feedback")).to_contain_text("1 answer")
    expect(page.locator("#cat-integrations")).to_contain_text("1 app connected")
    expect(page.locator("section[aria-labelledby='apps-h']")).to_contain_text("Demo tasks")
    # Yes-or-no features read as words, not 0 and 1.
    flag = page.locator("dl.facts dt", has_text="Kind task").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(flag).to_have_text(re.compile(r"^(yes|no)$"))


def test_settings_round_trip_through_the_controls(page: Page, live_server: LiveServer) -> None:  # noqa: F811
    sign_in(page, live_server)
    page.goto(live_server.url + "/settings")
    page.wait_for_function("() => window.htmx !== undefined")
    quiet = page.locator('#agent-time-of-day li[data-key="quiet_start"]')
    quiet.locator('input[type="time"]').fill("21:00")
    quiet.get_by_role("button", name="Save your quiet time starts").click()
    quiet = page.locator('#agent-time-of-day li[data-key="quiet_start"]')
    expect(quiet).to_contain_text("set by you")

    # Peak hours are chips: tick one more hour and save.
    peaks = page.locator('#agent-time-of-day li[data-key="peak_hours"]')
    chip = peaks.locator('input[value="5"]')
    assert not chip.is_checked()
    peaks.locator("label.chip", has_text="05:00").click()
    peaks.get_by_role("button", name="Save your most productive hours").click()
    peaks = page.locator('#agent-time-of-day li[data-key="peak_hours"]')
    expect(peaks).to_contain_text("set by you")
    expect(peaks.locator('input[value="5"]')).to_be_checked()

    page.locator("#ctx-name").fill("holiday")
    page.locator("#contexts label.chip", has_text="Momentum").click()
    page.locator("#contexts label.chip", has_text="Advice").click()
    page.get_by_role("button", name="Save context").click()
    expect(page.locator('li[data-context="holiday"]')).to_contain_text("Quiets: Momentum, Advice")

    page.reload()
    time_value = page.locator(
        '#agent-time-of-day li[data-key="quiet_start"] input[type="time"]'
    ).input_value()
    assert time_value == "21:00"
    expect(page.locator('li[data-context="holiday"]')).to_be_visible()


def test_why_opens_without_moving_the_tip(page: Page, live_server: LiveServer) -> None:  # noqa: F811
    sign_in(page, live_server)
    content = page.locator("#tip .tip-content")
    before = content.bounding_box()
    page.keyboard.press("?")
    expect(page.locator("#tip-why")).to_be_visible()
    after = content.bounding_box()
    assert before is not None
    assert after is not None
    assert abs(after["y"] - before["y"]) < 1, (before, after)


def test_a_signed_out_link_error_has_one_way_back(
    browser: Browser, live_server: LiveServer
) -> None:
    p = _context_page(browser, PHONE)
    try:
        p.goto(live_server.url + "/auth/link/never-issued")
        expect(p.locator("h1")).to_have_text("This link isn't valid")
        expect(p.locator(".back a")).to_have_count(1)
        assert "`" not in p.locator("main").inner_text()
        assert urlsplit(p.url).path == "/auth/link/never-issued"
    finally:
        p.context.close()


async def _phrasing_of(tip: str) -> str | None:
    from backend.recommender.tables import ServedTip

    row = (
        await ServedTip.select(ServedTip.detail)
        .where(ServedTip.id == tip)
        .output(load_json=True)
        .first()
    )
    assert row is not None
    phrasing = row["detail"].get("phrasing")
    return str(phrasing) if phrasing else None


def test_a_newcomers_first_task_is_said_as_a_person_would(
    page: Page,  # noqa: F811
    live_server: LiveServer,
) -> None:
    sign_in(page, live_server)
    first = tip_id(page)
    shown = page.locator("#tip-content").inner_text().strip()
    phrasing = run_db(_phrasing_of(first))
    assert phrasing, "the first task tip of someone who never answered is phrased"
    assert shown == phrasing
    assert shown.startswith(("Start with “", "One thing ")), shown
    page.keyboard.press("d")
    assert wait_for_swap(page, first)
    after = page.locator("#tip-content").inner_text().strip()
    assert "“" not in after, "after the first answer, the task as it is"
