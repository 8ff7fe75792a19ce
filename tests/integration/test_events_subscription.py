"""`events` over graphql-transport-ws against `oo serve`: own events only, in order, scoped."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from backend.events.bus import publish
from backend.events.contracts import TipServed
from tests.support.fixtures import LiveServer, make_person

TIMEOUT_S = 10
EVENTS = 'subscription { events(subjects: ["signals.tip.*"]) { subject userId payload } }'
EVENTS_OF = "subscription($userId: ID!) { events(userId: $userId) { subject userId payload } }"
TIP = "query { tip { id } }"
FEEDBACK = """
mutation($tipId: ID!) {
  feedback(tipId: $tipId, action: DONE, dwellMs: 30000) { reward nextTip { id } errors { code } }
}
"""


class Socket:
    """A graphql-transport-ws client speaking just enough of the protocol for tests."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def receive(self) -> dict[str, Any]:
        """The next message that is not a ping/pong (pings are answered)."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), TIMEOUT_S)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "pong":
                continue
            return message

    async def subscribe(self, query: str, **variables: object) -> str:
        op_id = uuid.uuid4().hex
        await self.ws.send(
            json.dumps(
                {
                    "id": op_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        return op_id

    async def next_event(self, op_id: str) -> dict[str, Any]:
        """The data of the next `next` message of this operation (errors fail the test)."""
        message = await self.receive()
        assert message["id"] == op_id, message
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["events"]
        return event

    async def sync(self, op_id: str, user_id: str) -> list[dict[str, Any]]:
        """Publish a marker event for `user_id` and collect events until it arrives.

        The subscription has no "started" acknowledgement; a marker that comes back proves the
        server is tailing the stream, and everything published before it has been delivered.
        """
        marker = f"marker-{uuid.uuid4().hex}"
        await publish(
            user_id,
            TipServed(
                tip_id=marker,
                item_ref="marker:0",
                source="test",
                kind="task",
                policy_id="random",
                policy_version="1",
                propensity=1.0,
                candidate_count=1,
                latency_ms=0.0,
            ),
        )
        seen: list[dict[str, Any]] = []
        while True:
            event = await self.next_event(op_id)
            tip_id = str(event["payload"].get("tip_id", ""))
            if tip_id == marker:
                return seen
            if not tip_id.startswith("marker-"):  # markers of an earlier, timed-out attempt
                seen.append(event)

    async def sync_when_ready(self, op_id: str, user_id: str) -> list[dict[str, Any]]:
        """Like `sync`, but retries the marker until the subscription has started tailing."""
        # Each try waits longer (a loaded machine can take seconds to deliver one event); the
        # whole wait is bounded by the clock, not by a count of tries.
        deadline = time.monotonic() + TIMEOUT_S
        attempt_s = 0.3
        while time.monotonic() < deadline:
            try:
                return await asyncio.wait_for(self.sync(op_id, user_id), attempt_s)
            except TimeoutError:
                attempt_s = min(attempt_s * 2, 5.0)
        raise AssertionError("the subscription never delivered a marker event")


@asynccontextmanager
async def socket(server: LiveServer, token: str) -> AsyncIterator[Socket]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT_S) as ws:  # type: ignore[list-item]
        s = Socket(ws)
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert (await s.receive())["type"] == "connection_ack"
        yield s


async def test_own_tip_events_arrive_in_order_and_only_to_their_owner(
    live_server: LiveServer, token_for: Any
) -> None:
    alice, bob = await make_person(), await make_person()
    alice_token, bob_token = await token_for(alice), await token_for(bob)
    async with (
        socket(live_server, alice_token) as alice_ws,
        socket(live_server, bob_token) as bob_ws,
        httpx.AsyncClient(
            base_url=live_server.url,
            timeout=TIMEOUT_S,
            headers={"Authorization": f"Bearer {alice_token}"},
        ) as http,
    ):
        alice_op = await alice_ws.subscribe(EVENTS)
        bob_op = await bob_ws.subscribe(EVENTS)
        assert await alice_ws.sync_when_ready(alice_op, alice.user_id) == []
        assert await bob_ws.sync_when_ready(bob_op, bob.user_id) == []

        tip = (await http.post("/graphql", json={"query": TIP})).json()["data"]["tip"]
        result = (
            await http.post("/graphql", json={"query": FEEDBACK, "variables": {"tipId": tip["id"]}})
        ).json()["data"]["feedback"]
        assert result["errors"] == []

        served = await alice_ws.next_event(alice_op)
        feedback = await alice_ws.next_event(alice_op)
        assert (served["subject"], served["userId"]) == ("signals.tip.served", alice.user_id)
        assert served["payload"]["tip_id"] == tip["id"]
        assert served["payload"]["propensity"] > 0
        assert (feedback["subject"], feedback["userId"]) == ("signals.tip.feedback", alice.user_id)
        assert feedback["payload"]["tip_id"] == tip["id"]
        assert feedback["payload"]["action"] == "done"
        assert feedback["payload"]["reward"] == result["reward"] == 1.0
        # The next tip, served by the mutation, is Alice's only other event.
        rest = await alice_ws.sync(alice_op, alice.user_id)
        assert [(e["subject"], e["payload"]["tip_id"]) for e in rest] == [
            ("signals.tip.served", result["nextTip"]["id"])
        ]

        # Bob's subscription saw none of Alice's events: only his own marker arrives.
        assert await bob_ws.sync(bob_op, bob.user_id) == []


async def test_following_someone_else_is_forbidden(live_server: LiveServer, token_for: Any) -> None:
    alice, bob = await make_person(tasks=False), await make_person(tasks=False)
    async with socket(live_server, await token_for(alice)) as ws:
        op_id = await ws.subscribe(EVENTS_OF, userId=bob.user_id)
        message = await ws.receive()
        assert message["id"] == op_id
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]


async def test_following_yourself_by_id_is_allowed(live_server: LiveServer, token_for: Any) -> None:
    alice = await make_person(tasks=False)
    async with socket(live_server, await token_for(alice)) as ws:
        op_id = await ws.subscribe(EVENTS_OF, userId=alice.user_id)
        seen = await ws.sync_when_ready(op_id, alice.user_id)
        assert seen == []


async def test_admin_may_follow_someone_else(live_server: LiveServer, token_for: Any) -> None:
    admin = await make_person(tasks=False, role="admin")
    bob = await make_person(tasks=False)
    async with socket(live_server, await token_for(admin)) as ws:
        op_id = await ws.subscribe(EVENTS_OF, userId=bob.user_id)
        assert await ws.sync_when_ready(op_id, bob.user_id) == []


async def test_subscription_without_credentials_is_unauthenticated(
    live_server: LiveServer,
) -> None:
    url = live_server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT_S) as raw:  # type: ignore[list-item]
        ws = Socket(raw)
        await raw.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await ws.receive())["type"] == "connection_ack"
        op_id = await ws.subscribe(EVENTS)
        message = await ws.receive()
        assert message["id"] == op_id
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]


async def test_a_session_cookie_counts_on_a_socket_only_from_our_own_origin(
    live_server: LiveServer,
) -> None:
    from websockets.exceptions import InvalidStatus

    from backend.identity.service import create_session

    person = await make_person()
    sid = await create_session(person.user_id)
    url = live_server.url.replace("http://", "ws://") + "/graphql"

    def open_socket(origin: str) -> Any:
        return connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=TIMEOUT_S,
            additional_headers={"Cookie": f"sid={sid}"},
            origin=origin,  # type: ignore[arg-type]
        )

    async with open_socket(live_server.url) as raw:
        ws = Socket(raw)
        await raw.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await ws.receive())["type"] == "connection_ack"
        op_id = await ws.subscribe(EVENTS)
        # Our own page's socket is the signed-in person: their events arrive.
        assert await ws.sync_when_ready(op_id, str(person.user_id)) == []

    with pytest.raises(InvalidStatus) as refused:
        async with open_socket("https://evil.example"):
            pass
    assert refused.value.response.status_code == 403, (
        "another site's page cannot ride the cookie (cross-site WebSocket hijacking)"
    )
