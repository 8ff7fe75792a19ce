"""Admin GraphQL over HTTP: policies with live stats, status changes, promotion, reset; tip why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from backend.recommender.shadow_replay import replay_pending
from backend.recommender.tables import PolicyState
from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]

POLICIES = """
query { policies { id version status description known createdAt promotedAt
  stats { decisions servedDecisions rewardedDecisions meanReward shadowDecisions
          agreedDecisions agreementRate agreedMeanReward } } }
"""
PROMOTE = """
mutation($id: ID!, $force: Boolean!, $reason: String!) {
  promotePolicy(id: $id, force: $force, reason: $reason) {
    policy { id status promotedAt }
    evidence { policyId incumbentId shadowDecisions requiredDecisions agreementRate estimator }
    errors { code message field }
  }
}
"""
SET_STATUS = """
mutation($id: ID!, $status: PolicyStatus!) {
  setPolicyStatus(id: $id, status: $status, reason: "test") {
    policy { id status } errors { code message field }
  }
}
"""
RESET = """
mutation($userId: ID!, $policyId: String) {
  resetPolicyState(userId: $userId, policyId: $policyId, reason: "test") {
    deleted errors { code message field }
  }
}
"""
TIP = """
query { tip { id explanation { policyId policyVersion score propensity explored candidateCount
  summary features { name value weight contribution } } } }
"""
FEEDBACK = """
mutation($tipId: ID!) { feedback(tipId: $tipId, action: SNOOZE, dwellMs: 3000) {
  errors { code } } }
"""


def gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def admin_token(token_for: TokenFor) -> str:
    return await token_for(await make_person(tasks=False, role="admin"))


@pytest.mark.usefixtures("registry_restored")
async def test_policy_admin_over_graphql(
    live_server: LiveServer, admin_token: str, token_for: TokenFor
) -> None:
    person = await make_person()
    token = await token_for(person)
    for _ in range(2):
        tip = gql(live_server, token, TIP)["data"]["tip"]
        assert tip["explanation"]["policyId"] == "random"
        assert tip["explanation"]["summary"]
        assert 0 < tip["explanation"]["propensity"] <= 1
        assert (
            gql(live_server, token, FEEDBACK, tipId=tip["id"])["data"]["feedback"]["errors"] == []
        )
    await replay_pending(budget_s=float("inf"))  # the worker's pass: the shadows' decisions

    # Only admins.
    denied = gql(live_server, token, POLICIES)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    policies = {p["id"]: p for p in gql(live_server, admin_token, POLICIES)["data"]["policies"]}
    assert set(policies) == {
        "random",
        "egreedy-v1",
        "linucb-v1",
        "lints-v1",
        "oo-v1",
        "oo-v2",
        "oo-v3",
        "oo-v4",
        "oo-v5",
    }
    assert [p["status"] for p in policies.values()].count("ACTIVE") == 1
    assert policies["random"]["status"] == "ACTIVE"
    served = policies["random"]["stats"]
    assert served["servedDecisions"] >= 2
    assert served["rewardedDecisions"] >= 2
    assert served["meanReward"] is not None
    shadow = policies["oo-v1"]["stats"]
    assert shadow["shadowDecisions"] >= 2
    assert 0 <= shadow["agreementRate"] <= 1
    assert shadow["decisions"] == shadow["servedDecisions"] + shadow["shadowDecisions"]

    # Promotion without evidence is refused, with the numbers.
    refused = gql(live_server, admin_token, PROMOTE, id="oo-v1", force=False, reason="try")
    payload = refused["data"]["promotePolicy"]
    assert payload["policy"] is None
    assert payload["errors"][0]["code"] == "INSUFFICIENT_EVIDENCE"
    assert "force: true" in payload["errors"][0]["message"]
    assert payload["evidence"]["requiredDecisions"] == 500
    assert payload["evidence"]["shadowDecisions"] < 500
    assert payload["evidence"]["incumbentId"] == "random"

    forced = gql(live_server, admin_token, PROMOTE, id="oo-v1", force=True, reason="dogfood")
    assert forced["data"]["promotePolicy"]["errors"] == []
    assert forced["data"]["promotePolicy"]["policy"]["status"] == "ACTIVE"
    # The unanswered tip stays what it was (stable on reload); the next pick is oo-v1's.
    stale = gql(live_server, token, TIP)["data"]["tip"]
    assert stale["explanation"]["policyId"] == "random"
    gql(live_server, token, FEEDBACK, tipId=stale["id"])
    tip = gql(live_server, token, TIP)["data"]["tip"]
    assert tip["explanation"]["policyId"] == "oo-v1"
    assert tip["explanation"]["features"]

    # Exactly one active: the old one became a shadow; the active cannot be disabled.
    changed = gql(live_server, admin_token, SET_STATUS, id="random", status="DISABLED")
    assert changed["data"]["setPolicyStatus"]["policy"] == {"id": "random", "status": "DISABLED"}
    blocked = gql(live_server, admin_token, SET_STATUS, id="oo-v1", status="SHADOW")
    assert blocked["data"]["setPolicyStatus"]["errors"][0]["code"] == "ACTIVE_POLICY"
    promote = gql(live_server, admin_token, SET_STATUS, id="lints-v1", status="ACTIVE")
    assert promote["data"]["setPolicyStatus"]["errors"][0]["code"] == "USE_PROMOTE"

    # Reset one person's learned state.
    before = await PolicyState.count().where(PolicyState.user == person.user_id)
    assert before >= 1
    reset = gql(live_server, admin_token, RESET, userId=person.user_id, policyId=None)
    assert reset["data"]["resetPolicyState"] == {"deleted": before, "errors": []}
    assert await PolicyState.count().where(PolicyState.user == person.user_id) == 0
    unknown = gql(live_server, admin_token, RESET, userId=person.user_id, policyId="nope")
    assert unknown["data"]["resetPolicyState"]["errors"][0]["field"] == "policyId"


def test_schema_has_the_admin_fields() -> None:
    from backend.schema import schema

    sdl = str(schema)
    for field in ("policies: [Policy!]!", "promotePolicy(", "setPolicyStatus(", "explanation:"):
        assert field in sdl


async def test_tip_page_has_a_why_line(live_server: LiveServer) -> None:
    from urllib.parse import urlsplit

    from backend.identity.service import create_sign_in_link

    person = await make_person()
    path = urlsplit(await create_sign_in_link(person.user_id)).path
    async with httpx.AsyncClient(base_url=live_server.url, follow_redirects=True) as client:
        page = await client.get(path)
    assert page.status_code == 200
    assert 'id="tip-why" hidden' in page.text
    assert 'class="why"' in page.text
