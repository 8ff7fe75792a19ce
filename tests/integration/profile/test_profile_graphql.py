"""The profile over GraphQL (real HTTP, real worker) and the `oo agents compute` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from backend.audit import recent as recent_audit
from tests.integration.profile.helpers import awake_times, give_completions
from tests.support.fixtures import ROOT, DemoPerson, LiveServer, make_person

PROFILE = """
query {
  profile {
    globals timezone
    preferences { scope key value source evidence }
    consents { key granted revokedAt }
    contexts { name active silencedAgents silencedKinds }
    activeContext { name }
    agentOutputs { agentId agentVersion snippet snippetHash ageSeconds expired }
  }
}
"""
AGENTS = "query { agents { id version consentKey minHistory params { key inferred } } }"
UPDATE = """
mutation($scope: String!, $values: JSON!) {
  updatePreferences(scope: $scope, values: $values) {
    preferences { key value source }
    errors { code message field }
  }
}
"""
CONSENT = """
mutation($key: String!, $granted: Boolean!) {
  setConsent(key: $key, granted: $granted) {
    consent { key granted grantedAt revokedAt }
    errors { code message field }
  }
}
"""
UPSERT_CONTEXT = """
mutation($name: String!, $agents: [String!], $kinds: [String!]) {
  upsertContext(name: $name, silencedAgents: $agents, silencedKinds: $kinds) {
    context { name silencedAgents silencedKinds active }
    errors { code field }
  }
}
"""
ACTIVATE = """
mutation($name: String!, $active: Boolean!) {
  activateContext(name: $name, active: $active) {
    context { name active }
    errors { code field }
  }
}
"""
COMPUTE = """
mutation($userId: ID!, $agentId: String!) {
  computeAgent(userId: $userId, agentId: $agentId, reason: "support ticket 12") {
    status reason output { agentId snippet }
    errors { code field }
  }
}
"""
FEATURES = """
query($userId: ID!) {
  profileFeatures(userId: $userId) { name value ageSeconds fresh ttlSec description }
}
"""
REBUILD = """
mutation($userId: ID!) {
  rebuildProfile(userId: $userId, reason: "support ticket 12") { features { name fresh value } errors { code } }
}
"""

Token = Callable[[DemoPerson], Awaitable[str]]


def gql(server: LiveServer, token: str, query: str, **variables: object) -> dict[str, Any]:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_profile_round_trip(live_server: LiveServer, token_for: Token) -> None:
    me = await make_person()
    token = await token_for(me)
    agents = gql(live_server, token, AGENTS)["data"]["agents"]
    assert [a["id"] for a in agents][:2] == ["time-of-day", "momentum"]
    tz = next(p for p in agents[0]["params"] if p["key"] == "tz")
    assert tz == {"key": "tz", "inferred": False}

    done = gql(live_server, token, UPDATE, scope="global", values={"tone": "gentle"})
    assert done["data"]["updatePreferences"]["errors"] == []
    bad = gql(live_server, token, UPDATE, scope="agent:time-of-day", values={"quiet_end": 30})
    assert bad["data"]["updatePreferences"]["errors"] == [
        {
            "code": "INVALID_VALUE",
            "message": "quiet_end: must be an hour from 0 to 23.",
            "field": "values.quiet_end",
        }
    ]
    revoked = gql(live_server, token, CONSENT, key="agent.momentum", granted=False)
    assert revoked["data"]["setConsent"]["consent"]["granted"] is False
    unknown = gql(live_server, token, CONSENT, key="agent.mind-reading", granted=True)
    assert unknown["data"]["setConsent"]["errors"][0]["code"] == "UNKNOWN_CONSENT"
    ctx = gql(live_server, token, UPSERT_CONTEXT, name="holiday", agents=["focus-area"], kinds=[])
    assert ctx["data"]["upsertContext"]["context"]["silencedAgents"] == ["focus-area"]
    bad_ctx = gql(live_server, token, UPSERT_CONTEXT, name="x", agents=[], kinds=["poem"])
    assert bad_ctx["data"]["upsertContext"]["errors"] == [
        {"code": "UNKNOWN_KIND", "field": "silencedKinds"}
    ]
    on = gql(live_server, token, ACTIVATE, name="holiday", active=True)
    assert on["data"]["activateContext"]["context"] == {"name": "holiday", "active": True}
    missing = gql(live_server, token, ACTIVATE, name="moon", active=True)
    assert missing["data"]["activateContext"]["errors"] == [{"code": "NOT_FOUND", "field": "name"}]

    profile = gql(live_server, token, PROFILE)["data"]["profile"]
    assert profile["globals"] == {"tone": "gentle"}
    assert profile["activeContext"] == {"name": "holiday"}
    assert {c["key"]: c["granted"] for c in profile["consents"]}["agent.momentum"] is False
    assert profile["preferences"] == [
        {"scope": "global", "key": "tone", "value": "gentle", "source": "user", "evidence": 0}
    ]


async def test_admin_computes_an_agent_and_rebuilds(
    live_server: LiveServer, token_for: Token
) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person()
    await give_completions(person.user_id, awake_times(days=3))
    admin_token, person_token = await token_for(admin), await token_for(person)

    computed = gql(live_server, admin_token, COMPUTE, userId=person.user_id, agentId="time-of-day")[
        "data"
    ]["computeAgent"]
    assert computed["status"] == "computed", computed
    assert computed["output"]["agentId"] == "time-of-day"
    assert "quiet 23:00–07:00" in computed["output"]["snippet"]
    outputs = gql(live_server, person_token, PROFILE)["data"]["profile"]["agentOutputs"]
    assert [o["agentId"] for o in outputs] == ["time-of-day"]
    assert outputs[0]["ageSeconds"] >= 0
    unknown = gql(live_server, admin_token, COMPUTE, userId=person.user_id, agentId="nope")
    assert unknown["data"]["computeAgent"]["errors"] == [
        {"code": "UNKNOWN_AGENT", "field": "agentId"}
    ]

    before_body = gql(live_server, admin_token, FEATURES, userId=person.user_id)
    before = before_body["data"]
    assert before, before_body
    assert {(f["fresh"], f["value"], f["ageSeconds"]) for f in before["profileFeatures"]} == {
        (False, None, None)
    }
    rebuilt = gql(live_server, admin_token, REBUILD, userId=person.user_id)["data"]
    features = {f["name"]: f for f in rebuilt["rebuildProfile"]["features"]}
    assert features["done_last_7d"] == {"name": "done_last_7d", "fresh": True, "value": 48}
    audit = await recent_audit(action_prefix="profile.", target=person.user_id)
    assert [a.action for a in audit] == ["profile.rebuild", "profile.compute_agent"]

    forbidden = gql(live_server, person_token, REBUILD, userId=person.user_id)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def oo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "oo"), *args],
        env=dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
        check=False,
    )


async def test_cli_computes_one_agent() -> None:
    person = await make_person()
    await give_completions(person.user_id, awake_times(days=2))
    done = oo("agents", "compute", "--email", person.email, "--agent", "momentum")
    assert done.returncode == 0, done.stderr
    assert "standard deviations" in done.stdout
    wrong = oo("agents", "compute", "--email", person.email, "--agent", "astrology")
    assert wrong.returncode == 2
    assert wrong.stderr.strip().splitlines() == [
        "oo: no agent 'astrology'; known: time-of-day, momentum, overdue-task, "
        "recent-patterns, focus-area"
    ]
