"""A run started through GraphQL (admin token) streams progress over `simulation(id)` and ends
in sim_runs; the CLI runs and stores one too."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from backend.simulation.store import events_of, get_run
from tests.support.fixtures import ROOT, LiveServer, make_person

TIMEOUT_S = 60
START = """
mutation($input: StartSimulationInput) {
  startSimulation(input: $input) {
    simulation { id status total }
    errors { code message field }
  }
}
"""
FOLLOW = "subscription($id: ID!) { simulation(id: $id) { id status done total policyId error } }"
LIST = """
query { simulations(first: 5) {
  edges { cursor node { id status done total eventsStored results { policyId meanReward pctOracle } } }
  pageInfo { hasNextPage endCursor }
} }
"""
CONFIG = {
    "policies": ["random", "oo-v1"],
    "personas": ["lark", "night-owl", "retiree"],
    "decisions": 120,
    "seed": 3,
}


def post(server: LiveServer, token: str, query: str, **variables: object) -> dict[str, Any]:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        body: dict[str, Any] = client.post(
            "/graphql", json={"query": query, "variables": variables}
        ).json()
    return body


async def follow(server: LiveServer, token: str, run_id: str) -> list[dict[str, Any]]:
    """Every progress message of the run until the server completes the subscription."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    seen: list[dict[str, Any]] = []
    async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        op = uuid.uuid4().hex
        await ws.send(
            json.dumps(
                {
                    "id": op,
                    "type": "subscribe",
                    "payload": {"query": FOLLOW, "variables": {"id": run_id}},
                }
            )
        )
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "complete":
                return seen
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            seen.append(message["payload"]["data"]["simulation"])


async def test_a_graphql_run_streams_progress_and_ends_in_sim_runs(
    live_server: LiveServer, token_for: Any
) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = await token_for(admin)
    started = post(live_server, token, START, input=CONFIG)["data"]["startSimulation"]
    assert started["errors"] == []
    run = started["simulation"]
    assert run["status"] in ("QUEUED", "RUNNING")
    assert run["total"] == 3 * 120 * 3  # personas × decisions × (2 policies + the oracle)

    seen = await follow(live_server, token, run["id"])
    statuses = [m["status"] for m in seen]
    assert statuses[-1] == "FINISHED", seen[-3:]
    running = [m for m in seen if m["status"] == "RUNNING" and 0 < m["done"] < m["total"]]
    assert running, f"no progress streamed: {statuses}"
    assert [m["done"] for m in running] == sorted(m["done"] for m in running)
    assert {m["policyId"] for m in running} <= {"oracle", "random", "oo-v1"}
    assert seen[-1]["done"] == seen[-1]["total"] == run["total"]

    stored = await get_run(run["id"])
    assert stored is not None
    assert stored.status == "finished"
    assert stored.source == "graphql"
    assert set(stored.summary["policies"]) == {"oracle", "random", "oo-v1"}
    assert stored.events_stored == len(await events_of(run["id"], limit=100_000)) > 0

    listed = post(live_server, token, LIST)["data"]["simulations"]
    node = next(e["node"] for e in listed["edges"] if e["node"]["id"] == run["id"])
    assert node["status"] == "FINISHED"
    oracle = next(r for r in node["results"] if r["policyId"] == "oracle")
    assert oracle["pctOracle"] == 1.0


async def test_simulations_are_for_admins_and_configs_are_checked(
    live_server: LiveServer, token_for: Any
) -> None:
    person = await make_person(tasks=False)
    body = post(live_server, await token_for(person), START, input=CONFIG)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = post(live_server, await token_for(person), LIST)
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    admin = await make_person(tasks=False, role="admin")
    bad = post(live_server, await token_for(admin), START, input={"policies": ["nope"]})
    payload = bad["data"]["startSimulation"]
    assert payload["simulation"] is None
    assert payload["errors"][0]["code"] == "INVALID_CONFIG"
    assert "nope" in payload["errors"][0]["message"]


async def test_oo_sim_prints_the_table_and_stores_the_run() -> None:
    oo = str(Path(sys.executable).parent / "oo")
    args = ["sim", "--persona", "lark", "--policy", "random", "--decisions", "15"]
    done = subprocess.run(
        [oo, *args],
        env=dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "% of oracle" in done.stdout
    assert "lark" in done.stdout
    run_id = done.stderr.split("run ", 1)[1].split()[0]
    stored = await get_run(run_id)
    assert stored is not None
    assert (stored.status, stored.source, stored.done) == ("finished", "cli", stored.total)
