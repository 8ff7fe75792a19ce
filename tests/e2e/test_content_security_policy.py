"""Every page under the Content-Security-Policy in real Chromium: no violation is reported
(neither a `securitypolicyviolation` event nor a console "Refused to …"), while the pages still
work — htmx swaps a tip, ECharts draws the console's charts, boosted links navigate."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_tip_page import DESKTOP, _sign_in_path, run_db, tip_id, wait_for_swap
from tests.support.fixtures import LiveServer, make_person

pytestmark = pytest.mark.browser

# Installed before any page script: CSP cannot block it (it is not part of the page).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile);
});
"""
PERSON_PAGES = ["/tip", "/settings", "/connect", "/account", "/data", "/legal/terms"]
ADMIN_PAGES = ["/admin?period=LAST_30D", "/admin/users", "/admin/audit"]


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page recording CSP violations: its own list, plus console messages about CSP."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(m.text)
            if "Refused to" in m.text or "Content Security Policy" in m.text
            else None
        ),
    )
    yield page, console
    context.close()


def violations(page: Page, console: list[str]) -> list[str]:
    """What the page and the console reported, once the page has settled."""
    page.wait_for_load_state("networkidle")
    reported: list[str] = page.evaluate("window.__csp || []")
    return reported + console


def sign_in(page: Page, server: LiveServer, role: str) -> str:
    person = run_db(make_person(tasks=role == "user", role=role))
    page.goto(server.url + run_db(_sign_in_path(person.user_id)))
    assert urlsplit(page.url).path == "/tip"
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    return person.user_id


def test_sign_in_page_has_no_violation(
    watched: tuple[Page, list[str]], live_server: LiveServer
) -> None:
    page, console = watched
    page.goto(live_server.url + "/signin")
    expect(page.locator("body")).to_be_visible()
    assert violations(page, console) == []


def test_a_person_s_pages_work_without_violation(
    watched: tuple[Page, list[str]], live_server: LiveServer
) -> None:
    page, console = watched
    sign_in(page, live_server, "user")
    # htmx works under the policy: a reaction swaps the tip in place.
    old = tip_id(page)
    page.keyboard.press("d")
    wait_for_swap(page, old)
    for path in PERSON_PAGES:
        page.goto(live_server.url + path)
        expect(page.locator("body")).to_be_visible()
        assert violations(page, console) == [], path


def test_the_console_draws_its_charts_without_violation(
    watched: tuple[Page, list[str]], live_server: LiveServer
) -> None:
    page, console = watched
    sign_in(page, live_server, "admin")
    for path in ADMIN_PAGES:
        page.goto(live_server.url + path)
        expect(page.locator(".console-nav")).to_be_visible()
        if path.startswith("/admin?"):
            expect(page.locator(".chart svg, .chart canvas").first).to_be_visible()
        assert violations(page, console) == [], path
    # A boosted link (htmx swaps the body and runs the page's script files) stays clean too.
    page.locator(".console-nav a[href='/admin']").click()
    expect(page.locator(".chart svg, .chart canvas").first).to_be_visible()
    assert violations(page, console) == []


def test_the_playground_page_has_no_violation(
    watched: tuple[Page, list[str]], live_server: LiveServer
) -> None:
    """GraphiQL starts from our own files under the page policy (ADR 0024)."""
    page, console = watched
    page.goto(live_server.url + "/graphql")
    expect(page.locator(".graphiql-query-editor")).to_be_visible()
    assert violations(page, console) == []
