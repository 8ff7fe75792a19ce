"""The ML console in real Chromium: a simulation started from the form shows its progress moving
live (SSE) and ends with its results and chart; a promotion without the evidence is refused with
the evidence shown; the off-policy evidence is computed from the page.

Set OO_SCREENSHOTS=1 to also write docs/screenshots/admin-policies*.png, admin-simulations*.png
and admin-simulation-run*.png (desktop and phone) with these pages holding real numbers.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from backend.recommender.policies import all_policies
from tests.e2e.test_admin_console import _signed_in_admin
from tests.e2e.test_tip_page import SCREENSHOTS
from tests.support.fixtures import LiveServer

pytestmark = pytest.mark.browser

RUN_DEADLINE_MS = 90_000


def _shoot(page: Page, name: str, width: str) -> None:
    if os.environ.get("OO_SCREENSHOTS"):
        suffix = "" if width == "desktop" else "-phone"
        page.screenshot(path=str(SCREENSHOTS / f"admin-{name}{suffix}.png"), full_page=True)


def _no_sideways_scroll(page: Page, name: str) -> None:
    width_px = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width_px <= viewport["width"] + 1, f"{name}: no sideways scroll of the page"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_simulation_from_the_page_moves_live_and_finishes(
    browser: Browser, live_server: LiveServer, width: str
) -> None:
    page, _person = _signed_in_admin(browser, live_server, width)
    try:
        page.goto(live_server.url + "/admin/simulations")
        form = page.locator("form.sim-form")
        for box in form.locator("input[name=policies]").all():
            box.set_checked(box.get_attribute("value") in ("random", "linucb-v1"))
        form.get_by_label("lark").check()
        form.get_by_label("Users per persona").fill("4")
        form.get_by_label("Decisions per user").fill("200")
        form.get_by_label("Seed").fill("11")
        form.get_by_role("button", name="Start the run").click()
        page.wait_for_url("**/admin/simulations/*")

        # The progress moves while the run goes: two different counts, neither the total.
        done = page.locator("#sim-done")
        expect(page.locator("#sim-state")).to_have_text("live")
        expect(done).not_to_have_text("0", timeout=RUN_DEADLINE_MS)
        first = done.inner_text()
        page.wait_for_function(
            "seen => { const el = document.getElementById('sim-done');"
            " return el && el.textContent !== seen; }",
            arg=first,
            timeout=RUN_DEADLINE_MS,
        )
        assert first != "2,400", "a count before the end was shown"

        # It finishes: the results replace the cancel form, the curve chart draws.
        results = page.locator("#sim-results")
        expect(results.locator("#sim-policies")).to_be_visible(timeout=RUN_DEADLINE_MS)
        expect(done).to_have_text("2,400")
        expect(page.locator("#sim-state")).to_have_text("ended")
        expect(page.locator("#sim-cancel")).to_have_count(0)
        expect(results.locator(".chart svg").first).to_be_visible()
        expect(results.locator("#sim-personas")).to_contain_text("lark")
        _no_sideways_scroll(page, "simulation run")
        _shoot(page, "simulation-run", width)

        page.goto(live_server.url + "/admin/simulations")
        expect(page.locator("#runs tbody tr").first).to_contain_text("finished")
        _no_sideways_scroll(page, "simulations")
        _shoot(page, "simulations", width)
        assert page.outside == [], "no page asks anything of another site"  # type: ignore[attr-defined]
    finally:
        page.context.close()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_promotion_without_the_evidence_is_refused_with_it_shown(
    browser: Browser, live_server: LiveServer, width: str
) -> None:
    page, _person = _signed_in_admin(browser, live_server, width)
    try:
        page.goto(live_server.url + "/admin/policies")
        expect(page.locator("#policies tbody tr")).to_have_count(len(all_policies()))
        page.get_by_role("button", name="Evaluate now").click()
        expect(page.locator("#outcome")).to_contain_text("Evaluated")
        expect(page.locator("#ope-table")).to_contain_text("egreedy-v1")
        expect(page.locator(".chart svg").first).to_be_visible()

        item = page.locator(".policy-actions li", has=page.locator("code", has_text="egreedy-v1"))
        promote = item.locator("form", has=page.get_by_role("button", name="Promote"))
        promote.get_by_placeholder("Why?").fill("it looks better")
        promote.get_by_role("button", name="Promote").click()
        outcome = page.locator("#outcome")
        expect(outcome).to_contain_text("force: true")
        evidence = outcome.get_by_role("table", name="Promotion evidence")
        expect(evidence).to_contain_text("of the 500 required")
        expect(evidence).to_contain_text("Agrees with")
        expect(page.locator("#policy-egreedy-v1")).not_to_contain_text("active")
        _no_sideways_scroll(page, "policies")
        _shoot(page, "policies", width)
        assert page.outside == [], "no page asks anything of another site"  # type: ignore[attr-defined]
    finally:
        page.context.close()
