"""GraphQL over HTTP: `tip { kind source model promptVersion }`, admin `candidates`, `llmStats`,
and `regenerateCandidates` run by the real worker."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from backend.llm.orchestrator import generate
from tests.integration.llm.conftest import gateway_for, person_with_notes
from tests.support.fixtures import DemoPerson, LiveServer, make_person
from tests.support.openai_standin import StandIn, good_answer

TokenFor = Callable[[DemoPerson], Awaitable[str]]

TIP = "query { tip { id kind source model promptVersion project content } }"
CANDIDATES = """
query($userId: ID!) { candidates(userId: $userId) {
  id content kind source model promptVersion confidence sourceRef agents createdAt expiresAt
  expired blocked } }
"""
STATS = """
query { llmStats(days: 7) { days tipGenerator
  writers { model promptVersion calls generations ok retried fellBack errors latencyP50Ms
            latencyP95Ms retryRate fallbackRate errorRate }
  rewardsByKind { kind model promptVersion served reacted meanReward } } }
"""
FEEDBACK = """
mutation($tipId: ID!) { feedback(tipId: $tipId, action: DONE, dwellMs: 30000) {
  reward errors { code } } }
"""
REGENERATE = """
mutation($userId: ID!, $reason: String! = "new prompt shipped") {
  regenerateCandidates(userId: $userId, reason: $reason) { queued errors { code } } }
"""


def gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_written_tips_in_graphql(
    live_server: LiveServer, token_for: TokenFor, standin: StandIn
) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer(("advice",))])
    await generate(user.user_id, gateway_for(standin))
    person_token = await token_for(DemoPerson(user.user_id, user.email or ""))
    admin = await make_person(tasks=False, role="admin")
    admin_token = await token_for(admin)

    tip = gql(live_server, person_token, TIP)["data"]["tip"]
    assert tip["kind"] == "ADVICE"
    assert tip["source"] == "momentum"
    assert tip["model"] == "openai/standin-model"
    assert tip["promptVersion"].startswith("v4-orchestrator-")
    assert tip["project"] is None
    reacted = gql(live_server, person_token, FEEDBACK, tipId=tip["id"])["data"]["feedback"]
    assert reacted["errors"] == []

    listed = gql(live_server, admin_token, CANDIDATES, userId=user.user_id)["data"]["candidates"]
    assert len(listed) == 1
    assert listed[0]["model"] == "openai/standin-model"
    assert listed[0]["blocked"] is None
    assert set(listed[0]["agents"]) >= {"momentum", "time-of-day"}

    stats = gql(live_server, admin_token, STATS)["data"]["llmStats"]
    assert stats["tipGenerator"] == "template", "the live server has no model configured"
    writers = {(w["model"], w["promptVersion"]): w for w in stats["writers"]}
    mine = writers[("openai/standin-model", tip["promptVersion"])]
    assert mine["calls"] >= 1
    assert mine["ok"] >= 1
    kinds = {(k["kind"], k["model"]) for k in stats["rewardsByKind"]}
    assert ("advice", "openai/standin-model") in kinds

    denied = gql(live_server, person_token, CANDIDATES, userId=user.user_id)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_regenerate_runs_on_the_worker(live_server: LiveServer, token_for: TokenFor) -> None:
    user = await person_with_notes()
    admin_token = await token_for(await make_person(tasks=False, role="admin"))
    result = gql(live_server, admin_token, REGENERATE, userId=user.user_id)
    assert result["data"]["regenerateCandidates"] == {"queued": True, "errors": []}
    deadline = time.monotonic() + 60
    listed: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not listed:
        listed = gql(live_server, admin_token, CANDIDATES, userId=user.user_id)["data"][
            "candidates"
        ]
        if not listed:
            time.sleep(0.5)
    assert listed, "the worker wrote candidates"
    assert {c["model"] for c in listed} == {"template"}
    missing = gql(live_server, admin_token, REGENERATE, userId="not-a-uuid")
    assert missing["data"]["regenerateCandidates"]["errors"] == [{"code": "NOT_FOUND"}]
    no_reason = gql(live_server, admin_token, REGENERATE, userId=user.user_id, reason="  ")
    assert no_reason["data"]["regenerateCandidates"] == {
        "queued": False,
        "errors": [{"code": "REASON_REQUIRED"}],
    }
