"""The console's operational GraphQL over HTTP and WebSocket against `oo serve` + `oo worker`:
the health rollup (query and subscription), actions that need a reason and land in the audit
log, event replay and its refusals, the `last` backfill of `events`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from backend import audit
from backend.events.bus import publish, read_one
from backend.events.contracts import TipServed
from backend.identity.service import create_session, list_sessions, principal_for_token
from backend.privacy.deletion import delete_account
from tests.integration.admin.test_admin_graphql import gql
from tests.integration.test_events_subscription import socket
from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]

HEALTH = """query { health { status checkedAt components { name status reason
  figures { label value } instances { role id version uptimeSeconds heartbeatAgeSeconds } } } }"""
END_SESSIONS = """mutation($userId: ID!, $reason: String!) {
  endSessions(userId: $userId, reason: $reason) { result errors { code field } } }"""
REVOKE_TOKEN = """mutation($userId: ID!, $tokenId: ID!, $reason: String!) {
  revokePersonalToken(userId: $userId, tokenId: $tokenId, reason: $reason) {
    result errors { code field } } }"""
REVOKE_INTEGRATION = """mutation($userId: ID!, $reason: String!) {
  revokeIntegration(userId: $userId, sourceName: "todoist", reason: $reason) {
    result errors { code field } } }"""
REPLAY = """mutation($id: ID!, $reason: String!) {
  replayEvent(id: $id, reason: $reason) { eventId errors { code field } } }"""
MY_TOKENS = "query { apiTokens { id name } }"


def _served(tip_id: str) -> TipServed:
    return TipServed(
        tip_id=tip_id,
        item_ref="test:1",
        source="test",
        kind="task",
        policy_id="random",
        policy_version="1",
        propensity=1.0,
        candidate_count=1,
        latency_ms=0.0,
    )


async def test_health_reports_every_part_with_the_processes_that_beat(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = await token_for(admin)
    deadline = time.monotonic() + 20
    while True:  # the worker beats within a few seconds of starting
        health = gql(live_server, token, HEALTH)["data"]["health"]
        parts = {c["name"]: c for c in health["components"]}
        if parts["workers"]["instances"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert set(parts) == {"web", "workers", "database", "redis", "model gateway", "integrations"}
    assert parts["web"]["status"] in {"GREEN", "AMBER"}
    assert parts["web"]["instances"], "the serving process beats"
    assert parts["workers"]["instances"], parts["workers"]["reason"]
    assert {i["role"] for i in parts["workers"]["instances"]} == {"worker"}
    assert parts["database"]["status"] in {"GREEN", "AMBER"}
    assert any(f["label"] == "probe latency" for f in parts["database"]["figures"])
    assert parts["redis"]["status"] in {"GREEN", "AMBER"}
    assert {f["label"] for f in parts["workers"]["figures"]} >= {
        "queue depth",
        "oldest queued job",
        "failed last hour",
    }
    assert health["status"] in {"GREEN", "AMBER", "RED"}

    person = await make_person(tasks=False)
    refused = gql(live_server, await token_for(person), HEALTH)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_health_subscription_pushes_the_rollup_at_once(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    admin = await make_person(tasks=False, role="admin")
    async with socket(live_server, await token_for(admin)) as ws:
        op = await ws.subscribe("subscription { health { status components { name status } } }")
        message = await ws.receive()
        assert message["type"] == "next", message
        names = {c["name"] for c in message["payload"]["data"]["health"]["components"]}
        assert "workers" in names
    person = await make_person(tasks=False)
    async with socket(live_server, await token_for(person)) as ws:
        op = await ws.subscribe("subscription { health { status } }")
        message = await ws.receive()
        assert message["id"] == op
        assert message["type"] == "error" or message["payload"].get("errors"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_actions_need_a_reason_and_are_audited_with_their_result(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    admin_token, person_token = await token_for(admin), await token_for(person)
    await create_session(person.user_id, "phone")
    await create_session(person.user_id, "laptop")

    # No reason: refused, nothing changed.
    for blank in ("", "  ", "ok"):
        refused = gql(live_server, admin_token, END_SESSIONS, userId=person.user_id, reason=blank)
        assert refused["data"]["endSessions"] == {
            "result": None,
            "errors": [{"code": "REASON_REQUIRED", "field": "reason"}],
        }
    assert len(await list_sessions(person.user_id)) == 2

    ended = gql(
        live_server, admin_token, END_SESSIONS, userId=person.user_id, reason="stolen phone"
    )
    assert ended["data"]["endSessions"] == {"result": "2 session(s) ended", "errors": []}
    assert await list_sessions(person.user_id) == []

    token_id = gql(live_server, person_token, MY_TOKENS)["data"]["apiTokens"][0]["id"]
    revoked = gql(
        live_server,
        admin_token,
        REVOKE_TOKEN,
        userId=person.user_id,
        tokenId=token_id,
        reason="token leaked in a gist",
    )
    assert revoked["data"]["revokePersonalToken"] == {"result": "token revoked", "errors": []}
    assert await principal_for_token(person_token) is None
    unknown = gql(
        live_server,
        admin_token,
        REVOKE_TOKEN,
        userId=person.user_id,
        tokenId=str(uuid.uuid4()),
        reason="again",
    )
    assert unknown["data"]["revokePersonalToken"]["errors"][0]["code"] == "NOT_FOUND"
    not_connected = gql(
        live_server, admin_token, REVOKE_INTEGRATION, userId=person.user_id, reason="asked to"
    )
    assert not_connected["data"]["revokeIntegration"]["errors"] == [
        {"code": "NOT_FOUND", "field": "sourceName"}
    ]
    nobody = gql(live_server, admin_token, END_SESSIONS, userId="not-a-person", reason="why not")
    assert nobody["data"]["endSessions"]["errors"][0]["code"] == "NOT_FOUND"

    logged = await audit.recent(10, target=person.user_id)
    actions = {e.action: e.detail for e in logged}
    assert actions["sessions.end"] == {"reason": "stolen phone", "result": "2 session(s) ended"}
    assert actions["token.revoke"]["reason"] == "token leaked in a gist"
    assert all(e.actor_user_id == admin.user_id for e in logged)

    other = await make_person(tasks=False)
    forbidden = gql(
        live_server, await token_for(other), END_SESSIONS, userId=person.user_id, reason="me"
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_replay_republishes_with_a_mark_and_refuses_unknown_or_deleted(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = await token_for(admin)
    person = await make_person(tasks=False)
    original = await publish(person.user_id, _served(str(uuid.uuid4())))

    replayed = gql(live_server, token, REPLAY, id=original, reason="rollup missed it")
    new_id = replayed["data"]["replayEvent"]["eventId"]
    assert replayed["data"]["replayEvent"]["errors"] == []
    again = await read_one(new_id)
    first = await read_one(original)
    assert again is not None
    assert first is not None
    assert again.replayed_from == original
    assert (again.subject, again.user_id, again.payload) == (
        first.subject,
        first.user_id,
        first.payload,
    )
    entry = (await audit.recent(1, action_prefix="event.replay", target=person.user_id))[0]
    assert entry.detail["event_id"] == original
    assert entry.detail["result"] == new_id

    no_reason = gql(live_server, token, REPLAY, id=original, reason="")
    assert no_reason["data"]["replayEvent"]["errors"][0]["code"] == "REASON_REQUIRED"
    unknown = gql(live_server, token, REPLAY, id="1-0", reason="is it there")
    assert unknown["data"]["replayEvent"]["errors"][0]["code"] == "NOT_FOUND"
    malformed = gql(live_server, token, REPLAY, id="yesterday", reason="is it there")
    assert malformed["data"]["replayEvent"]["errors"][0]["code"] == "BAD_USER_INPUT"

    gone = await make_person(tasks=False)
    theirs = await publish(gone.user_id, _served(str(uuid.uuid4())))
    await delete_account(gone.user_id)
    purged = gql(live_server, token, REPLAY, id=theirs, reason="bring it back")
    assert purged["data"]["replayEvent"]["errors"][0]["code"] == "NOT_FOUND"  # deletion purged it
    late = await publish(gone.user_id, _served(str(uuid.uuid4())))  # a worker's late event
    deleted = gql(live_server, token, REPLAY, id=late, reason="bring it back")
    assert deleted["data"]["replayEvent"]["errors"][0]["code"] == "PERSON_DELETED"


async def test_events_last_opens_with_the_newest_matching_events_then_goes_live(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    tips = [str(uuid.uuid4()) for _ in range(5)]
    for tip in tips:
        await publish(person.user_id, _served(tip))
    query = """subscription($userId: ID!) { events(userId: $userId, last: 3,
      subjects: ["signals.tip.served"]) { id payload } }"""
    async with socket(live_server, await token_for(admin)) as ws:
        op = await ws.subscribe(query, userId=person.user_id)
        backfill = [(await ws.next_event(op))["payload"]["tip_id"] for _ in range(3)]
        assert backfill == tips[2:]
        live = str(uuid.uuid4())
        await publish(person.user_id, _served(live))
        assert (await ws.next_event(op))["payload"]["tip_id"] == live
    async with socket(live_server, await token_for(admin)) as ws:
        op = await ws.subscribe(query.replace("last: 3", "last: 501"), userId=person.user_id)
        message: dict[str, Any] = await ws.receive()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
