"""The ML console in real Chromium, on the small seeded log (tests/integration/admin/ml_log.py):
the decision log, one decision, the feature browser and reward analytics at desktop and phone
width — charts drawn from the vendored ECharts beside their tables, no sideways scroll, nothing
off-site. With OO_SCREENSHOTS=1 it writes docs/screenshots/admin-{decisions,decision,features,
rewards}(-phone).png (these views, with the seeded log, replace the console test's shots)."""

from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_tip_page import DESKTOP, PHONE, SCREENSHOTS, run_db
from tests.integration.admin.ml_log import SeededLog, seed_log
from tests.support.fixtures import LiveServer, make_person

pytestmark = pytest.mark.browser


async def _admin_link() -> str:
    from backend.identity.service import create_sign_in_link

    admin = await make_person(tasks=False, role="admin")
    return urlsplit(await create_sign_in_link(admin.user_id)).path


def _views(log: SeededLog) -> list[tuple[str, str]]:
    first, last = log.start.date(), (log.start + timedelta(days=1)).date()
    window = f"from={first}&to={last}"
    return [
        ("decisions", f"/admin/decisions?{window}"),
        ("decision", f"/admin/decisions/{log.tip_ids[0]}"),
        ("features", f"/admin/features?person={log.people['p1']}&{window}"),
        ("rewards", f"/admin/rewards?group=POLICY&{window}"),
    ]


def _no_sideways_scroll(page: Page, name: str) -> None:
    width_px = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width_px <= viewport["width"] + 1, f"{name}: no sideways scroll of the page"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_an_admin_reads_the_ml_console(
    browser: Browser, live_server: LiveServer, width: str
) -> None:
    log = run_db(seed_log())
    link = run_db(_admin_link())
    context = browser.new_context(viewport=DESKTOP if width == "desktop" else PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    try:
        page.goto(live_server.url + link)
        for name, path in _views(log):
            page.goto(live_server.url + path)
            expect(page.locator(".console-nav")).to_be_visible()
            if name == "decisions":
                expect(page.locator("table.decisions tbody tr")).to_have_count(5)
                expect(page.get_by_text("delayed").first).to_be_visible()
            if name == "decision":
                expect(page.locator("table.candidates tr.chosen")).to_have_count(1)
                expect(page.locator("#candidates-note")).to_contain_text("not stored")
            if name in ("features", "rewards"):
                expect(page.locator(".chart svg").first).to_be_visible()
                expect(page.locator("details.as-table")).to_have_count(1)
            if name == "features":
                expect(page.locator("table.diff tbody tr").first).to_be_visible()
            if name == "rewards":
                expect(page.locator(".chart svg")).to_have_count(3)
                expect(page.locator(".what-changed")).to_contain_text("linucb")
                expect(page.locator("table.groups tbody tr")).to_have_count(2)
            _no_sideways_scroll(page, name)
            if os.environ.get("OO_SCREENSHOTS"):
                suffix = "" if width == "desktop" else "-phone"
                page.screenshot(path=str(SCREENSHOTS / f"admin-{name}{suffix}.png"), full_page=True)
        assert outside == [], "no page asks anything of another site"
    finally:
        context.close()
