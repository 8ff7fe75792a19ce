"""Connecting Todoist in real Chromium: Connect page → stand-in consent → connected → sync now."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.test_tip_page import CHROMIUM, CHROMIUM_ARGS, PHONE, _sign_in_path, run_db
from tests.support.fixtures import LiveServer, make_person
from tests.support.todoist_standin import TodoistStandIn

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


def test_connect_todoist_in_chromium_on_a_phone(
    chromium: Browser, integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    account = todoist.add_user(email)
    todoist.add_task(account, "Plan the team offsite", project="Work")
    todoist.add_task(account, "Buy oat milk", project="Errands")
    todoist.next_account = email
    person = run_db(make_person(tasks=False))
    context = chromium.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(integrations_server.url + run_db(_sign_in_path(person.user_id)))
    page.goto(f"{integrations_server.url}/connect")
    row = page.locator("#integration-todoist")
    expect(row).to_contain_text("Not connected")
    row.locator("a.connect").click()
    page.wait_for_url(f"{todoist.url}/**")
    page.locator("#approve").click()
    page.wait_for_url(f"{integrations_server.url}/connect")
    row = page.locator("#integration-todoist")
    expect(row).to_contain_text("Connected")
    row.get_by_role("button", name="Sync now").click()
    expect(page.locator("#integration-todoist")).to_contain_text("Synced: 2 items.")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.goto(f"{integrations_server.url}/tip")
    expect(page.locator("#tip-content")).to_be_visible()
    shown = page.locator("#tip-content").inner_text()
    # The title, or a newcomer's first task said around it (first_tip.py), title intact.
    assert any(t in shown for t in ("“Plan the team offsite”", "“Buy oat milk”")), shown
    context.close()
