"""Two web processes serving one person alternately see one consistent learned state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.recommender.policies import all_policies
from backend.recommender.policies.arrays import unpack
from backend.recommender.policies.vectors import OO_NAMES
from backend.recommender.shadow_replay import replay_person
from backend.recommender.tables import Feedback, PolicyState
from tests.support.fixtures import DemoPerson, LiveServer, make_person, start_server, stop_server

TIP = "query { tip { id explanation { policyId } } }"
FEEDBACK = """
mutation($tipId: ID!, $action: FeedbackAction!) {
  feedback(tipId: $tipId, action: $action, dwellMs: 40000) { nextTip { id } errors { code } }
}
"""


@pytest.fixture(scope="module")
def replicas(var_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    a = start_server(var_dir, with_worker=False)
    try:
        b = start_server(var_dir, with_worker=False)
    except Exception:
        stop_server(a)
        raise
    yield a, b
    stop_server(b)
    stop_server(a)


def gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def updates_by_policy(user_id: str) -> dict[str, int]:
    rows = await PolicyState.select(PolicyState.policy_id, PolicyState.updates).where(
        PolicyState.user == user_id
    )
    return {r["policy_id"]: r["updates"] for r in rows}


async def test_alternating_replicas_share_one_state(
    replicas: tuple[LiveServer, LiveServer],
    token_for: Callable[[DemoPerson], Awaitable[str]],
) -> None:
    a, b = replicas
    person = await make_person()
    token = await token_for(person)
    running = {p.id for p in all_policies()}
    for step in range(1, 7):
        serve, answer = (a, b) if step % 2 else (b, a)
        tip = gql(serve, token, TIP)["tip"]
        # The unanswered tip is the same whichever replica is asked.
        assert gql(answer, token, TIP)["tip"]["id"] == tip["id"]
        action = ("SNOOZE", "DISMISS", "DONE")[step % 3]
        result = gql(answer, token, FEEDBACK, tipId=tip["id"], action=action)["feedback"]
        assert result["errors"] == []
        # Each reaction, on either replica, moved every policy's one state row by exactly one
        # (the shadows' once the worker's replay has run).
        await replay_person(person.user_id)
        assert await updates_by_policy(person.user_id) == dict.fromkeys(running, step)
    assert await Feedback.count().where(Feedback.user == person.user_id) == 6
    row = await (
        PolicyState.select(PolicyState.state)
        .where((PolicyState.user == person.user_id) & (PolicyState.policy_id == "oo-v1"))
        .output(load_json=True)
        .first()
    )
    assert row is not None
    assert row["state"]["delta"]["n"] == 6
    assert unpack(row["state"]["delta"]["mu"]).shape == (len(OO_NAMES),)
