"""A newcomer's first tip (backend/recommender/first_tip.py), over GraphQL on a live server:
a written tip when one is ready (logged as the rule, left out of off-policy evaluation), else
the policy's task said as a person would. Runs on SQLite and PostgreSQL (OO_TEST_DB)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.identity.service import principal_for_user
from backend.llm.tables import TipCandidate
from backend.recommender import service
from backend.recommender.decision_log import rewarded_decisions
from backend.recommender.first_tip import RULE_ID
from backend.recommender.registry import serving
from backend.recommender.reward import Action
from backend.recommender.tables import ServedTip
from tests.support.fixtures import DemoPerson, LiveServer, make_person
from tests.support.served import serve_kind

TokenFor = Callable[[DemoPerson], Awaitable[str]]

TIP = """query { tip { id content kind phrasing model
  explanation { policyId propensity explored summary } } }"""
ANSWER = """
mutation($tipId: ID!, $action: FeedbackAction!) {
  feedback(tipId: $tipId, action: $action, dwellMs: 20000) {
    errors { code } nextTip { id phrasing explanation { policyId } } } }
"""
WRITTEN = "Ten quiet minutes before lunch suit you; the list can wait for them."


def gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def write_tip(user_id: str, model: str = "openai/standin-model") -> None:
    now = datetime.now(UTC)
    await TipCandidate(
        user=user_id,
        content=WRITTEN,
        kind="advice",
        source="time-of-day",
        model=model,
        prompt_version="v4-orchestrator-test",
        confidence=0.7,
        agents=[],
        created_at=now,
        expires_at=now + timedelta(hours=3),
    ).save()


async def served_row(tip_id: str) -> dict[str, Any]:
    row = await ServedTip.select().where(ServedTip.id == tip_id).first()
    assert row is not None
    return row


async def test_a_first_task_is_phrased_and_the_policy_still_decides(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    person = await make_person()
    token = await token_for(person)
    active, _ = await serving()
    tip = gql(live_server, token, TIP)["tip"]
    assert tip["kind"] == "TASK"
    assert tip["model"] is None, "a source task"
    phrasing = tip["phrasing"]
    assert phrasing, "a newcomer's first task is said as a person would"
    assert f"“{tip['content']}”" in phrasing, "the title stays intact"
    assert phrasing.endswith(".")
    assert ". " not in phrasing.replace(tip["content"], ""), "one sentence"
    assert phrasing.startswith(("Start with ", "One thing "))
    # Phrasing changes nothing about the decision: the policy's pick, its propensity.
    assert tip["explanation"]["policyId"] == active.id
    row = await served_row(tip["id"])
    assert row["policy_id"] == active.id
    assert abs(row["propensity"] - tip["explanation"]["propensity"]) < 1e-6
    assert gql(live_server, token, TIP)["tip"]["phrasing"] == phrasing

    answered = gql(live_server, token, ANSWER, tipId=tip["id"], action="DONE")["feedback"]
    assert answered["errors"] == []
    nxt = answered["nextTip"]
    assert nxt is not None
    assert nxt["phrasing"] is None, "after the first answer, tasks are shown as they are"


async def test_a_ready_written_tip_comes_first_logged_as_the_rule(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    person = await make_person()
    await write_tip(person.user_id, model="template")  # any written tip beats a bare task
    token = await token_for(person)
    active, _ = await serving()
    since = datetime.now(UTC) - timedelta(seconds=1)

    tip = gql(live_server, token, TIP)["tip"]
    assert (tip["kind"], tip["content"], tip["model"]) == ("ADVICE", WRITTEN, "template")
    assert tip["phrasing"] is None, "a written tip is already phrased"
    why = tip["explanation"]
    assert (why["policyId"], why["propensity"], why["explored"]) == (RULE_ID, 1.0, False)
    assert "to start with" in why["summary"]
    row = await served_row(tip["id"])
    assert (row["policy_id"], row["propensity"]) == (RULE_ID, 1.0)

    answered = gql(live_server, token, ANSWER, tipId=tip["id"], action="HELPFUL")["feedback"]
    assert answered["errors"] == []
    assert answered["nextTip"]["explanation"]["policyId"] == active.id, "the policy from now on"
    # Rewarded, replayable, and yet not evaluated: the rule gave no other candidate a chance.
    assert (await served_row(tip["id"]))["reward"] is not None
    assert tip["id"] not in {t.tip_id for t in await rewarded_decisions(since)}


async def test_once_answered_written_tips_compete_under_the_policy() -> None:
    person = await make_person()
    user = await principal_for_user(person.user_id, "token")
    assert user is not None
    first = await serve_kind(person.user_id, "task")
    await service.react(user, first, Action.DISMISS, 10_000)
    await write_tip(person.user_id)
    active, _ = await serving()
    tip = await service.current_tip(user)
    assert tip is not None
    assert tip.explanation["policy_id"] == active.id, "no rule after the first answer"
    assert "phrasing" not in tip.detail
    row = await served_row(tip.id)
    assert row["policy_id"] == active.id
