"""The data quality and LLM pages against a small hand-made log (three people, two days
twenty days back, where no other test serves tips), on SQLite and PostgreSQL: every figure is
checked against numbers computed by hand; the rollup is incremental and idempotent; deleted
people leave every figure; bad input is refused; the pages are for admins only."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend import audit
from backend.admin.quality_rollups import refresh_quality
from backend.integrations.tables import Integration, SourceCompletion
from backend.llm.tables import LlmCall, TipCandidate
from backend.privacy.deletion import delete_account
from backend.profile.tables import AgentOutput
from backend.recommender.feature_gaps import feature_names
from backend.recommender.tables import ServedTip
from tests.integration.admin.test_admin_graphql import gql
from tests.integration.admin.test_admin_pages import _browser_for
from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]

QUALITY = """query($days: Int!, $people: [ID!]) { dataQuality(days: $days, userIds: $people) { days
  features { feature rates missing decisions rate }
  sources { source connections needsReconnect failing staleTokenRate syncFailureRate }
  candidates { model candidates stale refused } agents { agentId outputs expired }
  coverage { userId email cells mean } } }"""
LLM = """query($days: Int!) { llmQuality(days: $days) { days
  writers { model promptVersion calls generations latencyP50Ms latencyP95Ms retryRate fallbackRate }
  gateFailures { reason count } rewards { model promptVersion served reactions meanReward } } }"""

NOW = datetime.now(UTC)
DAY_A = (NOW - timedelta(days=20)).replace(hour=10, minute=0, second=0, microsecond=0)
DAY_B = DAY_A + timedelta(days=1)
PLACEHOLDER = "content must be a sentence to the person, not a placeholder"


def _features(**gaps: Any) -> dict[str, Any]:
    full: dict[str, Any] = dict.fromkeys(feature_names(), 1.0)
    for name, value in gaps.items():
        if value is None:
            full.pop(name)
        else:
            full[name] = value
    return full


def _tip(person: DemoPerson, at: datetime, features: dict[str, Any], **extra: Any) -> ServedTip:
    return ServedTip(
        user=person.user_id,
        item_ref=f"test:{uuid.uuid4().hex[:8]}",
        source="test",
        kind=extra.pop("kind", "task"),
        content="A tip",
        features=features,
        candidate_count=1,
        policy_id="random",
        policy_version="1",
        score=0.0,
        propensity=1.0,
        latency_ms=1.0,
        served_at=at,
        **extra,
    )


class Log:
    """The seeded log's names (unique per test, so other rows never count)."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.model, self.source, self.agent = f"model-{tag}", f"src-{tag}", f"agent-{tag}"


async def _seed() -> tuple[Log, DemoPerson, DemoPerson, DemoPerson]:
    log = Log()
    p1, p2, p3 = [await make_person(tasks=False) for _ in range(3)]
    writer = {"model": log.model, "prompt_version": "v1"}
    await ServedTip.insert(
        # p1, day A: one complete answered advice, one task lacking priority and usual hour.
        _tip(
            p1,
            DAY_A,
            _features(),
            kind="advice",
            detail=writer,
            reaction="done",
            reward=1.0,
            reacted_at=DAY_A + timedelta(minutes=5),
        ),
        _tip(p1, DAY_A + timedelta(hours=1), _features(priority=None, usual_hour=-1.0)),
        # p2, day B: one complete advice of another prompt version, unanswered.
        _tip(p2, DAY_B, _features(), kind="advice", detail={**writer, "prompt_version": "v2"}),
        # p3 (deleted below): day A, lacking priority, answered.
        _tip(
            p3,
            DAY_A,
            _features(priority=None),
            kind="advice",
            detail=writer,
            reaction="dismiss",
            reward=-1.0,
            reacted_at=DAY_A + timedelta(minutes=1),
        ),
    )
    await SourceCompletion(
        user=p1.user_id, source=log.source, item_ref="t:1", project="p", completed_at=DAY_A
    ).save()
    await Integration.insert(
        Integration(user=p1.user_id, source=log.source, status="connected"),
        Integration(user=p2.user_id, source=log.source, status="needs_reconnect", failures=2),
        Integration(user=p3.user_id, source=log.source, status="needs_attention", failures=1),
    )
    later, earlier = NOW + timedelta(days=1), NOW - timedelta(hours=1)

    def candidate(
        person: DemoPerson, expires: datetime, blocked: str | None = None
    ) -> TipCandidate:
        return TipCandidate(
            user=person.user_id,
            content="Write it down.",
            kind="advice",
            source="llm",
            model=log.model,
            prompt_version="v1",
            expires_at=expires,
            blocked=blocked,
        )

    await TipCandidate.insert(
        candidate(p1, later),
        candidate(p1, earlier),
        candidate(p1, later, "consent revoked"),
        candidate(p3, earlier),
    )

    def output(person: DemoPerson, expires: datetime) -> AgentOutput:
        return AgentOutput(
            user=person.user_id,
            agent_id=log.agent,
            agent_version="1",
            snippet="-",
            snippet_hash="-",
            expires_at=expires,
        )

    await AgentOutput.insert(output(p1, earlier), output(p2, later), output(p3, earlier))
    g1, g2 = uuid.uuid4(), uuid.uuid4()

    def call(gen: uuid.UUID, attempt: int, outcome: str, ms: float, error: str = "") -> LlmCall:
        return LlmCall(
            user=p1.user_id,
            generation=gen,
            alias="tip-generator",
            model=log.model,
            prompt_version="v1",
            attempt=attempt,
            outcome=outcome,
            latency_ms=ms,
            error=error,
            created_at=NOW - timedelta(hours=2),
        )

    await LlmCall.insert(
        call(g1, 1, "retried", 100, "not JSON (Expecting value at character 0)"),
        call(g1, 2, "ok", 300),
        call(g2, 1, "fell_back", 200, f"candidates/0: {PLACEHOLDER}; candidates/3: {PLACEHOLDER}"),
    )
    await delete_account(p3.user_id)
    return log, p1, p2, p3


@pytest.fixture
async def admin() -> DemoPerson:
    return await make_person(tasks=False, role="admin")


async def test_quality_figures_match_the_hand_computed_ones(
    live_server: LiveServer, token_for: TokenFor, admin: DemoPerson
) -> None:
    token = await token_for(admin)
    # Gate failures are counted over everyone's calls: other tests' (a real model's) count too,
    # so ours are what this seed adds.
    before = gql(live_server, token, LLM, days=7)["data"]["llmQuality"]["gateFailures"]
    baseline = {g["reason"]: g["count"] for g in before}
    log, p1, p2, p3 = await _seed()
    await refresh_quality()
    await refresh_quality()  # idempotent: a second run changes nothing
    # The heatmap of these people (the default, the thinnest 30, depends on everyone else).
    people = [p1.user_id, p2.user_id, p3.user_id]
    q = gql(live_server, token, QUALITY, days=30, people=people)["data"]["dataQuality"]
    a, b = q["days"].index(DAY_A.date().isoformat()), q["days"].index(DAY_B.date().isoformat())
    features = {f["feature"]: f for f in q["features"]}
    assert set(features) == feature_names()
    # Day A: p1's two decisions (p3 left); one lacks priority and the usual hour. Day B: p2's one.
    assert features["priority"]["rates"][a] == 0.5
    assert features["usual_hour"]["rates"][a] == 0.5
    assert features["hour_of_day"]["rates"][a] == 0.0
    assert features["priority"]["rates"][b] == 0.0
    assert features["priority"]["rates"][a + 2 :].count(None) >= 1  # days with no decision

    (source,) = [s for s in q["sources"] if s["source"] == log.source]
    assert source == {
        "source": log.source,
        "connections": 2,
        "needsReconnect": 1,
        "failing": 1,
        "staleTokenRate": 0.5,
        "syncFailureRate": 0.5,
    }
    (cands,) = [c for c in q["candidates"] if c["model"] == log.model]
    assert cands == {"model": log.model, "candidates": 3, "stale": 1, "refused": 1}
    (agent,) = [g for g in q["agents"] if g["agentId"] == log.agent]
    assert agent == {"agentId": log.agent, "outputs": 2, "expired": 1}

    coverage = {c["userId"]: c for c in q["coverage"]}
    assert p3.user_id not in coverage
    # p1 on day A: served, answered, completions, but one decision incomplete: 3 of 4.
    assert coverage[p1.user_id]["cells"][a] == 0.75
    assert coverage[p1.user_id]["cells"][b] is None
    assert coverage[p2.user_id]["cells"][b] == 0.5  # served, complete; no answer, no completion
    assert coverage[p2.user_id]["mean"] == round(0.5 / 30, 4)
    ids = [c["userId"] for c in q["coverage"]]
    assert ids.index(p2.user_id) < ids.index(p1.user_id), "thinnest coverage first"

    # Incremental: p2 answers their day-B tip; the next run picks that day up again.
    await ServedTip.update({ServedTip.reacted_at: datetime.now(UTC), ServedTip.reward: 0.5}).where(
        ServedTip.user == p2.user_id
    )
    await refresh_quality()
    again = gql(live_server, token, QUALITY, days=30, people=people)["data"]["dataQuality"]
    assert {c["userId"]: c for c in again["coverage"]}[p2.user_id]["cells"][b] == 0.75

    llm = gql(live_server, token, LLM, days=7)["data"]["llmQuality"]
    (writer,) = [w for w in llm["writers"] if w["model"] == log.model]
    assert writer == {
        "model": log.model,
        "promptVersion": "v1",
        "calls": 3,
        "generations": 2,
        "latencyP50Ms": 200.0,
        "latencyP95Ms": 300.0,
        "retryRate": 0.5,
        "fallbackRate": 0.5,
    }
    gates = {g["reason"]: g["count"] for g in llm["gateFailures"]}
    placeholder = f"candidates/N: {PLACEHOLDER}"
    assert gates[placeholder] - baseline.get(placeholder, 0) == 2
    assert gates["not JSON"] - baseline.get("not JSON", 0) == 1
    month = gql(live_server, token, LLM, days=30)["data"]["llmQuality"]
    rewards = {(r["model"], r["promptVersion"]): r for r in month["rewards"]}
    assert rewards[(log.model, "v1")]["served"] == 1  # p3's tip left with them
    assert rewards[(log.model, "v1")]["meanReward"] == 1.0
    assert rewards[(log.model, "v2")] == {
        "model": log.model,
        "promptVersion": "v2",
        "served": 1,
        "reactions": 1,
        "meanReward": 0.5,
    }

    for query, days in ((QUALITY, 5), (LLM, 2)):
        bad = gql(live_server, token, query, days=days)
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_pages_show_the_heatmap_tables_and_rewrite_with_a_reason(
    live_server: LiveServer, admin: DemoPerson
) -> None:
    log, p1, p2, _ = await _seed()
    await refresh_quality()
    client = await _browser_for(live_server, admin)
    page = client.get(f"/admin/quality?days=30&person={p2.user_id}")
    assert page.status_code == 200
    assert 'data-chart="heatmap"' in page.text
    assert 'id="coverage-table"' in page.text
    assert f'href="/admin/users/{p2.user_id}"' in page.text  # red cells link to the person
    assert log.source in page.text
    assert log.agent in page.text
    assert "access_token" not in page.text
    assert client.get("/admin/quality?days=9").status_code == 400
    assert client.get("/admin/quality?days=x").status_code == 400

    llm = client.get("/admin/llm?days=30")
    assert llm.status_code == 200
    assert log.model in llm.text
    assert "not JSON" in llm.text
    assert client.get("/admin/llm?days=3").status_code == 400
    csrf = {"_csrf_token": client.cookies["csrftoken"]}
    no_reason = client.post("/admin/llm/regenerate", data={**csrf, "person": p1.email})
    assert no_reason.status_code == 400
    assert "Say why" in no_reason.text
    nobody = client.post(
        "/admin/llm/regenerate", data={**csrf, "person": "nobody@example.test", "reason": "check"}
    )
    assert nobody.status_code == 404
    done = client.post(
        "/admin/llm/regenerate", data={**csrf, "person": p1.email, "reason": "bad batch"}
    )
    assert done.status_code == 200
    assert 'id="outcome"' in done.text
    entries = await audit.recent(20, None, p1.user_id, admin.user_id)
    assert any(e.detail.get("reason") == "bad batch" for e in entries)

    person = await make_person(tasks=False)
    browser = await _browser_for(live_server, person)
    for path in ("/admin/quality", "/admin/llm", "/admin/sql"):
        assert browser.get(path).status_code == 403
        assert live_server.client().get(path, follow_redirects=False).status_code == 303
