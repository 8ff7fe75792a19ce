"""A WebSocket frame past WS_MAX_MESSAGE_BYTES is refused (1009 "message too big") before it is
parsed; ordinary messages on another connection are unaffected."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from backend.cli import WS_MAX_MESSAGE_BYTES
from tests.integration.test_events_subscription import TIMEOUT_S, socket
from tests.support.fixtures import LiveServer, make_person


async def test_an_oversized_frame_closes_the_socket_with_1009(
    live_server: LiveServer, token_for: object
) -> None:
    url = live_server.url.replace("http://", "ws://") + "/graphql"
    padding = "x" * (WS_MAX_MESSAGE_BYTES + 1)
    async with connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=TIMEOUT_S,
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"pad": padding}}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009

    person = await make_person(tasks=False)
    token = await token_for(person)  # type: ignore[operator]
    async with socket(live_server, token) as ok:  # the handshake answers as usual
        op = await ok.subscribe("subscription { myTip { id } }")
        message = await ok.receive()
        assert (message["id"], message["type"]) == (op, "next")
