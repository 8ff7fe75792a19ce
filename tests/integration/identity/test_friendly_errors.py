"""Error pages speak to a person: what happened, one way back, no commands to run. What an
operator needs goes to the server's log instead. Legal pages promise only the sign-in methods
this server has."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from backend.identity.service import create_sign_in_link
from backend.identity.tables import SignInLink
from tests.support.fixtures import LiveServer, make_person

BACK = re.compile(r'<p class="back"><a href="[^"]+">← Back to [^<]+</a></p>')


def _assert_for_people(html: str) -> None:
    assert "`" not in html, "no command syntax on a page for people"
    assert "oo demo" not in html
    assert len(BACK.findall(html)) == 1, "exactly one way back"


def _log_mentions(server: LiveServer, text: str, deadline_s: float = 10.0) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if text in server.log.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


async def test_sign_in_link_refusals_say_what_happened(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    with live_server.client(follow_redirects=False) as client:
        unknown = client.get("/auth/link/never-issued-token")
        assert unknown.status_code == 400
        assert (
            "This link isn&#39;t valid" in unknown.text or "This link isn't valid" in unknown.text
        )
        assert "expired" not in unknown.text
        _assert_for_people(unknown.text)

        path = urlparse(await create_sign_in_link(person.user_id)).path
        assert client.get(path).status_code == 303
        used = client.get(path)
        assert used.status_code == 400
        assert "already used" in used.text
        _assert_for_people(used.text)

        stale = urlparse(await create_sign_in_link(person.user_id)).path
        await SignInLink.update(
            {SignInLink.expires_at: datetime.now(UTC) - timedelta(minutes=1)}
        ).where(SignInLink.user == person.user_id)
        expired = client.get(stale)
        assert expired.status_code == 400
        assert "This link has expired" in expired.text
        _assert_for_people(expired.text)
    # The operator's line (with the command) is in the server log, not on the page.
    assert _log_mentions(live_server, "`oo demo` prints a fresh one")


def test_not_found_page_has_one_way_back(live_server: LiveServer) -> None:
    with live_server.client() as client:
        page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    _assert_for_people(page.text)


def test_legal_pages_promise_only_configured_sign_in(live_server: LiveServer) -> None:
    # The test server configures neither Google nor Apple sign-in.
    with live_server.client() as client:
        for path in ("/legal/terms", "/legal/privacy"):
            page = client.get(path)
            assert page.status_code == 200
            assert "Google" not in page.text, path
            assert "Apple" not in page.text, path
            assert "one-time sign-in link" in page.text
            _assert_for_people(page.text)
