"""The policies page and its GraphQL: live figures with the reward interval (checked by hand on a
small log), the off-policy evidence (the promotion's own estimator, stored for the page), and
every action from the page — promote (refused with its evidence; forced with a reason), disable,
enable as shadow, reset a person's learned state — with its refusals and audit records."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backend import audit
from backend.admin import policy_evaluation
from backend.identity.service import create_api_token
from backend.identity.tables import User
from backend.recommender import registry
from backend.recommender.policy_stats import policy_stats
from backend.recommender.registry_cache import forget_serving
from backend.recommender.tables import PolicyState, ServedTip
from backend.simulation.evaluation import MIN_ESS, PolicyEstimate, estimate_window
from backend.simulation.ope import Estimate
from tests.integration.admin.test_admin_pages import _browser_for
from tests.integration.simulation.test_promotion import (  # noqa: F401 - fixtures
    logged_people,
    only_logged_people,
    registry_back,
)
from tests.support.fixtures import LiveServer, make_person

SET_STATUS = """mutation($id: ID!, $status: PolicyStatus!, $reason: String!) {
  setPolicyStatus(id: $id, status: $status, reason: $reason) {
    policy { id status } errors { code field } } }"""
PROMOTE = """mutation($id: ID!, $reason: String!) {
  promotePolicy(id: $id, reason: $reason) { policy { id } evidence { shadowDecisions }
    errors { code field } } }"""
EVALUATION = """query { policyEvaluation { decisions estimator incumbentId incumbentValue
  policies { policyId servedDecisions effectiveSampleSize clearsBar
             estimates { estimator value low high } } } }"""


def _gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        body: dict[str, Any] = client.post(
            "/graphql", json={"query": query, "variables": variables}
        ).json()
    return body


async def _admin(server: LiveServer) -> tuple[httpx.Client, str, dict[str, str]]:
    admin = await make_person(tasks=False, role="admin")
    client = await _browser_for(server, admin)
    client.get("/admin/policies")
    return client, admin.user_id, {"x-csrftoken": client.cookies["csrftoken"]}


async def test_the_mean_reward_interval_is_the_hand_computed_one() -> None:
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    pid = f"hand-{uuid.uuid4().hex[:8]}"
    rewards = [1.0, 0.0, -1.0, 1.0, None]  # four rewarded, one unanswered
    await ServedTip.insert(
        *[
            ServedTip(
                user=person.user_id,
                item_ref=f"t:{i}",
                source="test",
                kind="task",
                content="x",
                policy_id=pid,
                policy_version="9",
                propensity=0.5,
                served_at=now - timedelta(hours=i + 1),
                reward=r,
            )
            for i, r in enumerate(rewards)
        ]
    )
    s = (await policy_stats({pid: "9"}))[pid]
    assert (s.served_decisions, s.rewarded_decisions) == (5, 4)
    assert s.mean_reward == pytest.approx(0.25)
    # Sample variance of (1, 0, -1, 1): 2.75 / 3; half-width 1.96 · √(var / 4).
    half = 1.96 * math.sqrt(2.75 / 3 / 4)
    low, high = s.reward_ci
    assert low == pytest.approx(0.25 - half)
    assert high == pytest.approx(0.25 + half)
    assert (await policy_stats({pid: "other"}))[pid].reward_ci == (None, None)


def _estimate(value: float, low: float, high: float) -> dict[str, Estimate]:
    return {k: Estimate(k, value, low, high) for k in ("ips", "snips", "dr")}


def test_the_bar_is_the_incumbents_on_policy_mean_or_its_estimate() -> None:
    at = datetime.now(UTC)
    incumbent = PolicyEstimate("random", 300, 250.0, _estimate(0.1, 0.0, 0.2), 150, 0.12)
    better = PolicyEstimate("oo-v1", 300, 150.0, _estimate(0.4, 0.2, 0.6), 0, None)
    worse = PolicyEstimate("lints-v1", 300, 40.0, _estimate(0.3, 0.05, 0.5), 0, None)
    e = policy_evaluation.build(at, 300, [incumbent, better, worse], "random")
    assert e.incumbent_value == 0.12  # served ≥ 100: what it actually earned
    assert [p.clears_bar for p in e.policies] == [None, True, False]
    assert e.policies[1].estimates["dr"] == {"value": 0.4, "low": 0.2, "high": 0.6}
    # Served too little itself: its own DR estimate is the bar.
    few = PolicyEstimate("random", 300, 250.0, _estimate(0.1, 0.0, 0.2), 20, 0.5)
    assert policy_evaluation.build(at, 300, [few, worse], "random").incumbent_value == 0.1
    # A lower bound above the bar from too few effective decisions does not clear it.
    flimsy = PolicyEstimate("oo-v1", 300, MIN_ESS - 1, _estimate(0.4, 0.2, 0.6), 0, None)
    assert (
        policy_evaluation.build(at, 300, [incumbent, flimsy], "random").policies[1].clears_bar
        is False
    )
    # Too few logged decisions: no bar, nobody clears it.
    thin = policy_evaluation.build(at, 150, [incumbent, better], "random")
    assert thin.incumbent_value is None
    assert thin.policies[1].clears_bar is None
    assert not thin.enough


@pytest.mark.usefixtures("only_logged_people", "registry_back")
async def test_the_evidence_is_the_promotion_estimators_and_the_page_shows_it(
    live_server: LiveServer,
) -> None:
    stored = await policy_evaluation.evaluate()
    assert stored.decisions >= 900
    assert stored.incumbent_id == (await registry.serving())[0].id
    since = datetime.now(UTC) - timedelta(days=30)
    ids = [p.policy_id for p in stored.policies]
    _n, direct = await estimate_window(ids, since, bootstrap=policy_evaluation.BOOTSTRAP)
    for mine, theirs in zip(stored.policies, direct, strict=True):
        assert mine.estimates["dr"]["value"] == pytest.approx(theirs.estimates["dr"].value)
        assert mine.estimates["ips"]["low"] == pytest.approx(theirs.estimates["ips"].low)
        assert mine.ess == pytest.approx(theirs.ess)
    assert await policy_evaluation.latest() == stored

    admin = await make_person(tasks=False, role="admin")
    token = (await create_api_token(admin.user_id, "test"))[1]
    body = _gql(live_server, token, EVALUATION)["data"]["policyEvaluation"]
    assert body["decisions"] == stored.decisions
    assert body["estimator"] == "DR"
    first = body["policies"][0]
    assert [e["estimator"] for e in first["estimates"]] == ["IPS", "SNIPS", "DR"]
    assert all(e["low"] <= e["value"] <= e["high"] for e in first["estimates"])

    client, _id, _csrf = await _admin(live_server)
    page = client.get("/admin/policies")
    assert page.status_code == 200
    assert 'id="ope-table"' in page.text
    assert f"{stored.decisions:,} rewarded decisions" in page.text
    assert 'data-chart="intervals"' in page.text


async def _serving_now() -> tuple[Any, Any]:
    """Who serves, read now: the server changed the registry in its own process, and this
    one keeps what it read for up to SERVING_TTL_S (ADR 0041)."""
    forget_serving()
    return await registry.serving()


@pytest.mark.usefixtures("registry_back")
async def test_promotion_from_the_page_is_refused_with_its_evidence_then_forced(
    live_server: LiveServer,
) -> None:
    client, admin_id, csrf = await _admin(live_server)
    page = client.get("/admin/policies")
    assert page.status_code == 200
    for pid in ("random", "egreedy-v1", "linucb-v1", "lints-v1", "oo-v1"):
        assert f'id="policy-{pid}"' in page.text

    no_reason = client.post("/admin/policies/egreedy-v1/promote", data={}, headers=csrf)
    assert no_reason.status_code == 400
    assert "Say why" in no_reason.text
    refused = client.post(
        "/admin/policies/egreedy-v1/promote", data={"reason": "looks good"}, headers=csrf
    )
    assert refused.status_code == 409
    assert "force: true" in refused.text
    assert 'aria-label="Promotion evidence"' in refused.text
    assert "of the 500 required" in refused.text
    assert (await _serving_now())[0].id != "egreedy-v1"

    unknown = client.post("/admin/policies/nope/promote", data={"reason": "why"}, headers=csrf)
    assert unknown.status_code == 404
    forced = client.post(
        "/admin/policies/egreedy-v1/promote",
        data={"reason": "dogfooding it", "force": "on"},
        headers=csrf,
    )
    assert forced.status_code == 200
    assert "egreedy-v1 is now the active policy" in forced.text
    assert (await _serving_now())[0].id == "egreedy-v1"
    line = (await audit.recent(target="egreedy-v1", action_prefix="policy.promote"))[0]
    assert line.actor_user_id == admin_id
    assert line.detail["reason"] == "dogfooding it"
    assert line.detail["forced"] is True


@pytest.mark.usefixtures("registry_back")
async def test_disable_enable_and_their_refusals(live_server: LiveServer) -> None:
    client, admin_id, csrf = await _admin(live_server)
    url = "/admin/policies/lints-v1/status"
    assert client.post(url, data={"status": "DISABLED"}, headers=csrf).status_code == 400
    bad = client.post(url, data={"status": "ACTIVE", "reason": "why"}, headers=csrf)
    assert bad.status_code == 400
    assert "promoting" in bad.text
    off = client.post(url, data={"status": "DISABLED", "reason": "too slow"}, headers=csrf)
    assert off.status_code == 200
    assert "lints-v1 is now disabled" in off.text
    assert "Enable as shadow" in off.text
    on = client.post(url, data={"status": "SHADOW", "reason": "fixed"}, headers=csrf)
    assert "lints-v1 is now shadow" in on.text
    active = (await _serving_now())[0].id
    blocked = client.post(
        f"/admin/policies/{active}/status",
        data={"status": "DISABLED", "reason": "try"},
        headers=csrf,
    )
    assert blocked.status_code == 409
    assert "is the active policy" in blocked.text
    missing = client.post(
        "/admin/policies/nope/status", data={"status": "DISABLED", "reason": "x y"}, headers=csrf
    )
    assert missing.status_code == 404
    lines = await audit.recent(target="lints-v1", action_prefix="policy.status")
    assert [line.detail["reason"] for line in lines[:2]] == ["fixed", "too slow"]
    assert all(line.actor_user_id == admin_id for line in lines[:2])


async def test_reset_a_persons_learned_state_from_the_page(live_server: LiveServer) -> None:
    client, admin_id, csrf = await _admin(live_server)
    person = await make_person(tasks=False)
    await PolicyState.insert(
        PolicyState(user=person.user_id, policy_id="linucb-v1", policy_version="1", state={})
    )
    url = "/admin/policies/reset"
    base = {"user_id": person.user_id, "reason": "asked by support"}
    assert client.post(url, data={**base, "reason": ""}, headers=csrf).status_code == 400
    assert client.post(url, data={**base, "user_id": "x"}, headers=csrf).status_code == 400
    stranger = {**base, "user_id": str(uuid.uuid4())}
    assert client.post(url, data=stranger, headers=csrf).status_code == 404
    assert client.post(url, data={**base, "policy_id": "nope"}, headers=csrf).status_code == 404
    gone = await make_person(tasks=False)
    await User.update({User.deleted_at: datetime.now(UTC)}).where(User.id == gone.user_id)
    deleted = {**base, "user_id": gone.user_id}
    assert client.post(url, data=deleted, headers=csrf).status_code == 404, "deleted: absent"
    done = client.post(url, data={**base, "policy_id": "linucb-v1"}, headers=csrf)
    assert done.status_code == 200
    assert "Forgot 1 learned state(s)" in done.text
    assert await PolicyState.count().where(PolicyState.user == person.user_id) == 0
    line = (await audit.recent(target=person.user_id, action_prefix="policy.reset_state"))[0]
    assert line.actor_user_id == admin_id
    assert line.detail["reason"] == "asked by support"
    assert client.post(url, data=base).status_code == 403, "no CSRF token, no action"


@pytest.mark.usefixtures("registry_back")
async def test_graphql_status_and_promotion_need_a_reason(live_server: LiveServer) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = (await create_api_token(admin.user_id, "test"))[1]
    for query, variables in (
        (SET_STATUS, {"id": "lints-v1", "status": "DISABLED", "reason": " "}),
        (PROMOTE, {"id": "lints-v1", "reason": ""}),
    ):
        data = _gql(live_server, token, query, **variables)["data"]
        payload = next(iter(data.values()))
        assert payload["policy"] is None
        assert payload["errors"] == [{"code": "REASON_REQUIRED", "field": "reason"}]
    assert "lints-v1" in [p.id for p in (await _serving_now())[1]]
