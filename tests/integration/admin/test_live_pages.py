"""The console's live pages over HTTP: the event tail and health streamed as HTML over SSE
(the GraphQL subscription run server-side), resume by Last-Event-ID, replay and person actions
from forms (reason required, audited), 403 for people, /readyz 503 when Redis is away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from backend import audit
from backend.events.bus import publish
from backend.events.contracts import TipServed
from backend.identity.service import create_session, list_sessions
from tests.integration.admin.test_admin_pages import _browser_for
from tests.support.fixtures import LiveServer, free_port, make_person, start_server, stop_server

DEADLINE_S = 10.0


def _served() -> TipServed:
    return TipServed(
        tip_id=str(uuid.uuid4()),
        item_ref="test:1",
        source="test",
        kind="task",
        policy_id="random",
        policy_version="1",
        propensity=1.0,
        candidate_count=1,
        latency_ms=0.0,
    )


class Stream:
    """A server-sent-events reader: (event, id, data) messages, each within the deadline."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self) -> tuple[str, str, str]:
        async def read() -> tuple[str, str, str]:
            event, event_id, data = "message", "", []
            async for line in self.lines:
                if not line:
                    if data:
                        return event, event_id, "\n".join(data)
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    event = value
                elif name == "id":
                    event_id = value
                elif name == "data":
                    data.append(value)
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), DEADLINE_S)


@asynccontextmanager
async def sse(
    client: httpx.Client, url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Stream]:
    async with (
        httpx.AsyncClient(base_url=str(client.base_url), cookies=client.cookies) as http,
        http.stream("GET", url, headers=headers, timeout=DEADLINE_S) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


async def test_the_tail_streams_rendered_rows_and_resumes_after_the_last_id(
    live_server: LiveServer,
) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    client = await _browser_for(live_server, admin)
    page = client.get(f"/admin/events?user={person.user_id}&window=1h&last=10")
    assert page.status_code == 200
    assert 'sse-connect="/admin/events/stream?' in page.text

    first = await publish(person.user_id, _served())
    url = f"/admin/events/stream?user={person.user_id}&subjects=signals.tip&last=10"
    async with sse(client, url) as stream:
        event, event_id, row = await stream.next()  # the backfill
        assert (event, event_id) == ("event", first)
        assert "signals.tip.served" in row
        assert 'class="tail-row"' in row
        assert "Replay" in row
        second = await publish(person.user_id, _served())  # live
        assert (await stream.next())[1] == second
    third = await publish(person.user_id, _served())
    # The browser reconnects with the last id it saw: the tail goes on from there, no backfill.
    async with sse(client, url, {"Last-Event-ID": second}) as stream:
        assert (await stream.next())[1] == third


async def test_replay_from_the_tail_and_health_panels(live_server: LiveServer) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    client = await _browser_for(live_server, admin)
    client.get("/admin/events")
    csrf = {"x-csrftoken": client.cookies["csrftoken"]}
    event_id = await publish(person.user_id, _served())

    refused = client.post("/admin/events/replay", data={"event_id": event_id}, headers=csrf)
    assert refused.status_code == 400
    assert "Say why" in refused.text
    unknown = client.post(
        "/admin/events/replay", data={"event_id": "1-0", "reason": "check"}, headers=csrf
    )
    assert unknown.status_code == 404
    done = client.post(
        "/admin/events/replay", data={"event_id": event_id, "reason": "rollup gap"}, headers=csrf
    )
    assert done.status_code == 200
    assert "Replayed as" in done.text
    no_csrf = client.post("/admin/events/replay", data={"event_id": event_id, "reason": "x y z"})
    assert no_csrf.status_code == 403

    health = client.get("/admin/health")
    assert health.status_code == 200
    for part in ("web", "workers", "database", "redis", "model gateway", "integrations"):
        assert f">{part} <" in health.text or f">{part}<" in health.text, part
    async with sse(client, "/admin/health/stream") as stream:
        event, _, panel = await stream.next()
        assert event == "health"
        assert "Overall:" in panel
        assert "health-card" in panel


async def test_person_actions_from_the_page_need_a_reason_and_show_their_result(
    live_server: LiveServer,
) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    await create_session(person.user_id, "tablet")
    from backend.admin.rollups import refresh

    await refresh()
    client = await _browser_for(live_server, admin)
    page = client.get(f"/admin/users/{person.user_id}")
    assert page.status_code == 200
    for label in (
        "End every session",
        "Rebuild the profile",
        "Recompute agent",
        "Profile features",
    ):
        assert label in page.text
    form = {"action": "end_sessions", "_csrf_token": client.cookies["csrftoken"]}
    url = f"/admin/users/{person.user_id}/actions"

    refused = client.post(url, data=form)
    assert refused.status_code == 400
    assert "Say why" in refused.text
    assert len(await list_sessions(person.user_id)) == 1
    done = client.post(url, data={**form, "reason": "lost tablet"})
    assert done.status_code == 200
    assert "1 session(s) ended" in done.text
    assert await list_sessions(person.user_id) == []
    entry = (await audit.recent(1, action_prefix="sessions.end", target=person.user_id))[0]
    assert entry.detail["reason"] == "lost tablet"
    assert entry.actor_user_id == admin.user_id
    audit_page = client.get(f"/admin/audit?target={person.user_id}")
    assert "lost tablet" in audit_page.text


async def test_live_pages_are_for_admins_only(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    client = await _browser_for(live_server, person)
    for path in ("/admin/events", "/admin/events/stream", "/admin/health", "/admin/health/stream"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Admins only" in response.text
    refused = client.post(
        f"/admin/users/{person.user_id}/actions",
        data={"action": "end_sessions", "reason": "because", "_csrf_token": "x"},
        headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
    )
    assert refused.status_code == 403


def test_readyz_says_503_while_redis_is_unreachable(var_dir: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server = start_server(var_dir, with_worker=False, extra_env={"REDIS_URL": closed})
    try:
        with server.client() as client:
            assert client.get("/healthz").status_code == 200  # alive, but not ready
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"ok": False, "database": True, "redis": False}
    finally:
        stop_server(server)
