"""The GraphQL playground in real Chromium with the outside world cut off (ADR 0024): every
request to a host other than 127.0.0.1 is aborted and recorded, and GraphiQL still loads from our
own static files, runs the example query with the session, and streams the example subscription
over graphql-transport-ws."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.test_tip_page import DESKTOP, sign_in
from tests.support.fixtures import LiveServer

pytestmark = pytest.mark.browser

LOCAL = "127.0.0.1"


class Offline:
    """A browser context whose every request (page, worker, WebSocket) to another host is
    blocked; what was attempted is kept for the assertion."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context(viewport=DESKTOP)
        self.context.set_default_timeout(20_000)
        self.attempted: list[str] = []
        self.sockets: list[str] = []
        self.context.route("**/*", self._gate)
        self.page = self.context.new_page()
        self.page.on("websocket", lambda ws: self.sockets.append(ws.url))

    def _gate(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname != LOCAL:
            self.attempted.append(url)
            route.abort("internetdisconnected")
            return
        route.continue_()

    def outside(self) -> list[str]:
        """Every outside request attempted so far (HTTP and WebSocket)."""
        return self.attempted + [u for u in self.sockets if urlsplit(u).hostname != LOCAL]


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    gated = Offline(browser)
    yield gated
    gated.context.close()


MENU_WAIT_MS = 5_000
MENU_DEADLINE_S = 60.0


def run_operation(page: Page, name: str) -> None:
    """Press GraphiQL's run button and pick the named operation of the document.

    GraphiQL learns the document's operations from its editor after the text is shown; on a
    loaded machine a press that comes first opens no menu (seen once in a loaded CI run: the
    menu item never appeared in 20 s). So the press is repeated until the menu shows, within
    a deadline; a press that found no operations runs nothing the assertions could mistake
    for the answer (they wait for the named operation's result).
    """
    item = page.get_by_role("menuitem", name=name)
    deadline = time.monotonic() + MENU_DEADLINE_S
    while True:
        page.locator(".graphiql-execute-button").click()
        try:
            item.wait_for(state="visible", timeout=MENU_WAIT_MS)
            break
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
    item.click()


def test_graphiql_runs_the_example_query_with_no_internet(
    offline: Offline, live_server: LiveServer
) -> None:
    page = offline.page
    sign_in(page, live_server)
    page.goto(live_server.url + "/graphql")
    editor = page.locator(".graphiql-query-editor")
    expect(editor).to_contain_text("query MyTip")
    expect(editor).to_contain_text("subscription TipUpdates")
    # The Headers tab is open with the hint for outside tools; the hint itself is not sent.
    expect(page.locator(".graphiql-editor-tool")).to_contain_text("<your token from /account>")

    run_operation(page, "MyTip")
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"tip"')
    expect(result).to_contain_text('"content"')
    expect(result).not_to_contain_text('"errors"')

    run_operation(page, "TipUpdates")
    expect(result).to_contain_text('"myTip"')
    assert any(urlsplit(u).path == "/graphql" for u in offline.sockets), offline.sockets
    assert offline.outside() == []
