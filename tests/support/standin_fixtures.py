"""Pytest fixtures for the Todoist and Google Calendar stand-ins.

Enable with ``"tests.support.standin_fixtures"`` in the root conftest's ``pytest_plugins`` (next
to ``tests.support.idp_fixtures``, which it needs for the Google stand-in). One server each for
the whole session; the function-scoped ``todoist`` / ``gcal`` fixtures ``reset()`` it before each
test and fail the test if the stand-in itself crashed. URL, client credentials, registered
redirect URIs and trusted token issuers survive ``reset()``, so an app started once per session
with ``todoist_env`` / ``gcal_env`` stays valid.

The Calendar stand-in trusts the session's Google stand-in (``google_idp_server``): connecting
Calendar is an OAuth flow against the Google stand-in (``calendar.readonly``,
``access_type=offline``), and the access tokens it issues are accepted by the Calendar API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.calendar_standin import GoogleCalendarStandIn
from tests.support.fixtures import LiveServer, start_server, stop_server
from tests.support.idp_fixtures import _reset_and_watch
from tests.support.idp_google import GoogleStandIn
from tests.support.todoist_standin import TodoistStandIn


@pytest.fixture(scope="session")
def todoist_server() -> Iterator[TodoistStandIn]:
    """The session's Todoist stand-in (not reset between tests; prefer ``todoist``)."""
    server = TodoistStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcal_server(google_idp_server: GoogleStandIn) -> Iterator[GoogleCalendarStandIn]:
    """The session's Calendar stand-in, trusting the Google stand-in's tokens (prefer ``gcal``)."""
    server = GoogleCalendarStandIn()
    server.trust_tokens_from(google_idp_server)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def todoist(todoist_server: TodoistStandIn) -> Iterator[TodoistStandIn]:
    """The Todoist stand-in, reset for this test."""
    for _ in _reset_and_watch(todoist_server):
        yield todoist_server


@pytest.fixture
def gcal(gcal_server: GoogleCalendarStandIn) -> Iterator[GoogleCalendarStandIn]:
    """The Calendar stand-in, reset for this test (the Google stand-in is not reset here)."""
    for _ in _reset_and_watch(gcal_server):
        yield gcal_server


@pytest.fixture(scope="session")
def todoist_env(todoist_server: TodoistStandIn) -> dict[str, str]:
    """TODOIST_* environment variables for an app wired to the Todoist stand-in."""
    return todoist_server.env()


@pytest.fixture(scope="session")
def gcal_env(gcal_server: GoogleCalendarStandIn) -> dict[str, str]:
    """GOOGLE_CALENDAR_API_URL (OAuth for Calendar is the Google stand-in's, via idp_env)."""
    return gcal_server.env()


@pytest.fixture(scope="session")
def providers_env(
    todoist_env: dict[str, str], gcal_env: dict[str, str], idp_env: dict[str, str]
) -> dict[str, str]:
    """Every provider wired to its stand-in: what each worker of the run needs (one queue)."""
    return {**idp_env, **todoist_env, **gcal_env, "OO_SYNC_MAX_FAILURES": "3"}


@pytest.fixture(scope="session")
def integrations_server(
    var_dir: Path,
    providers_env: dict[str, str],
    todoist_server: TodoistStandIn,
    gcal_server: GoogleCalendarStandIn,
    google_idp_server: GoogleStandIn,
) -> Iterator[LiveServer]:
    """The app with every provider configured, and a worker for the jobs."""
    server = start_server(
        var_dir, with_worker=True, extra_env=providers_env, worker_env=providers_env
    )
    todoist_server.allow_redirect(f"{server.url}/integrations/todoist/callback")
    google_idp_server.allow_redirect(f"{server.url}/integrations/google-calendar/callback")
    yield server
    stop_server(server)
