"""`myTip` over graphql-transport-ws: the current tip at once, then the next one when the tip is
answered on another device (two open pages stay in step)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.test_events_subscription import TIMEOUT_S, socket
from tests.support.fixtures import LiveServer, make_person

MY_TIP = "subscription { myTip { id content } }"
FEEDBACK = """
mutation($tipId: ID!) { feedback(tipId: $tipId, action: DONE, dwellMs: 4000) {
  nextTip { id } errors { code } } }
"""


async def _next_tip(ws: Any, op_id: str) -> dict[str, Any] | None:
    message = await ws.receive()
    assert message["id"] == op_id, message
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    tip: dict[str, Any] | None = message["payload"]["data"]["myTip"]
    return tip


async def test_my_tip_follows_answers_from_another_device(
    live_server: LiveServer, token_for: Any
) -> None:
    alice, bob = await make_person(), await make_person()
    alice_token, bob_token = await token_for(alice), await token_for(bob)
    async with (
        socket(live_server, alice_token) as phone,
        httpx.AsyncClient(
            base_url=live_server.url,
            timeout=TIMEOUT_S,
            headers={"Authorization": f"Bearer {alice_token}"},
        ) as laptop,
        httpx.AsyncClient(
            base_url=live_server.url,
            timeout=TIMEOUT_S,
            headers={"Authorization": f"Bearer {bob_token}"},
        ) as bobs,
    ):
        op = await phone.subscribe(MY_TIP)
        first = await _next_tip(phone, op)
        assert first is not None, "the current tip, at once"
        shown = (await laptop.post("/graphql", json={"query": "{ tip { id } }"})).json()
        assert shown["data"]["tip"]["id"] == first["id"], "one tip, the same on both devices"

        # Bob's activity is his own: nothing reaches Alice's subscription.
        bob_tip = (await bobs.post("/graphql", json={"query": "{ tip { id } }"})).json()
        await bobs.post(
            "/graphql",
            json={"query": FEEDBACK, "variables": {"tipId": bob_tip["data"]["tip"]["id"]}},
        )

        answered = (
            await laptop.post(
                "/graphql", json={"query": FEEDBACK, "variables": {"tipId": first["id"]}}
            )
        ).json()["data"]["feedback"]
        assert answered["errors"] == []
        following = await asyncio.wait_for(_next_tip(phone, op), TIMEOUT_S)
        assert following is not None
        assert following["id"] == answered["nextTip"]["id"], "the phone shows the laptop's next tip"
