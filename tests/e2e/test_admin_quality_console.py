"""The data quality, LLM and SQL pages in real Chromium at desktop and phone width: the
completeness heatmap and the charts draw from the vendored ECharts beside their tables, a red
cell of the table opens the person, the SQL runner shows a result and refuses a write.

Set OO_SCREENSHOTS=1 to also write docs/screenshots/admin-{quality,llm,sql}[-phone].png.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.test_admin_console import _signed_in_admin
from tests.e2e.test_tip_page import SCREENSHOTS, run_db
from tests.support.fixtures import LiveServer

pytestmark = pytest.mark.browser


async def _model_calls(person_id: str) -> None:
    """A few model calls (one retried after a gate rejection) for the LLM page to show."""
    from backend.admin.quality_rollups import refresh_quality
    from backend.llm.tables import LlmCall

    now = datetime.now(UTC)
    rows = []
    for n in range(6):
        generation = uuid.uuid4()
        if n % 3 == 0:
            rows.append(
                LlmCall(
                    user=person_id,
                    generation=generation,
                    alias="tip-generator",
                    model="ollama/qwen2.5:3b",
                    prompt_version="tips-v3",
                    attempt=1,
                    outcome="retried",
                    latency_ms=900 + 40 * n,
                    error="candidates/0: content must be a sentence to the person, not a "
                    "placeholder",
                    created_at=now - timedelta(hours=n),
                )
            )
        rows.append(
            LlmCall(
                user=person_id,
                generation=generation,
                alias="tip-generator",
                model="ollama/qwen2.5:3b",
                prompt_version="tips-v3",
                attempt=2 if n % 3 == 0 else 1,
                outcome="ok",
                latency_ms=700 + 55 * n,
                created_at=now - timedelta(hours=n),
            )
        )
    await LlmCall.insert(*rows)
    # Someone whose app reports completions but who was served nothing: a quarter of the
    # signals, a red cell.
    from backend.identity.service import get_or_create_user
    from backend.integrations.tables import SourceCompletion

    quiet = await get_or_create_user(f"quiet-{uuid.uuid4().hex[:8]}@example.test", "Quiet")
    await SourceCompletion(
        user=quiet, source="todoist", item_ref="todoist:1", project="Home", completed_at=now
    ).save()
    from backend.admin.rollups import refresh

    await refresh()  # the person page reads the people rollup
    await refresh_quality()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_quality_llm_and_sql_pages(browser: Browser, live_server: LiveServer, width: str) -> None:
    page, person_id = _signed_in_admin(browser, live_server, width)
    run_db(_model_calls(person_id))
    suffix = "" if width == "desktop" else "-phone"
    try:
        page.goto(live_server.url + "/admin/quality?days=14")
        expect(page.locator('[data-chart="heatmap"] svg')).to_be_visible()
        expect(page.locator('[data-chart="lines"]')).to_have_count(1)
        page.locator("summary", has_text="As a table").first.click()
        red = page.locator("#coverage-table td.low a").first
        expect(red).to_be_visible()
        _no_sideways_scroll(page, "quality")
        if os.environ.get("OO_SCREENSHOTS"):
            page.screenshot(path=str(SCREENSHOTS / f"admin-quality{suffix}.png"), full_page=True)
        red.click()
        expect(page).to_have_url(re.compile(r"/admin/users/[0-9a-f-]{36}$"))
        expect(page.locator(".console-title h1")).to_be_visible()

        page.goto(live_server.url + "/admin/llm?days=7")
        expect(page.locator('[data-chart="bars"] svg').first).to_be_visible()
        expect(page.locator("#writers-table")).to_contain_text("tips-v3")
        expect(page.locator("#gates-table")).to_contain_text("not a placeholder")
        _no_sideways_scroll(page, "llm")
        if os.environ.get("OO_SCREENSHOTS"):
            page.screenshot(path=str(SCREENSHOTS / f"admin-llm{suffix}.png"), full_page=True)

        page.goto(live_server.url + "/admin/sql")
        page.locator("#sql-box").fill("DELETE FROM app_user")
        page.get_by_role("button", name="Run").click()
        expect(page.locator("#sql-error")).to_contain_text("only reads")
        page.locator("#sql-box").fill(
            "SELECT day, served, reactions FROM admin_day ORDER BY day DESC LIMIT 7"
        )
        page.get_by_role("button", name="Run").click()
        expect(page.locator("#sql-result tbody tr").first).to_be_visible()
        expect(page.locator("#sql-result thead")).to_contain_text("reactions")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").click()
        saved = download.value.path()
        assert saved.read_text().splitlines()[0] == "day,served,reactions"
        _no_sideways_scroll(page, "sql")
        if os.environ.get("OO_SCREENSHOTS"):
            page.screenshot(path=str(SCREENSHOTS / f"admin-sql{suffix}.png"), full_page=True)
        assert page.outside == [], "no page asks anything of another site"  # type: ignore[attr-defined]
    finally:
        page.context.close()


def _no_sideways_scroll(page: object, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    viewport = page.viewport_size  # type: ignore[attr-defined]
    assert width <= viewport["width"] + 1, f"{name}: no sideways scroll of the page"
