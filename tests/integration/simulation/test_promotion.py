"""Off-policy evaluation of the service's decision log, wired into promotion."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.recommender import registry
from backend.recommender.decision_log import LoggedTip, rewarded_decisions
from backend.recommender.policies import get_policy
from backend.recommender.registry_cache import forget_serving
from backend.recommender.tables import PolicyRegistry, ServedTip, ShadowDecision
from backend.simulation import evaluation
from backend.simulation.evaluation import (
    estimate_window,
    install_promotion_estimator,
    promotion_estimate,
)
from backend.simulation.runner import SimConfig, simulate
from tests.support.fixtures import make_person


@pytest.fixture
async def logged_people() -> AsyncIterator[list[str]]:
    """A simulated random log of 3 personas written into served_tip (removed afterwards)."""
    result = simulate(
        SimConfig(
            policies=("random",),
            personas=("busy-parent", "nine-to-five", "retiree"),
            decisions=300,
            seed=21,
            events="none",
        ),
        keep_log=True,
    )
    people = [(await make_person(tasks=False)).user_id for _ in result.users]
    # Log order (people interleaved), five minutes apart, ending well before now.
    start = datetime.now(UTC) - timedelta(days=10)
    rows = []
    for i, d in enumerate(result.log):
        at = start + timedelta(minutes=5 * i)
        rows.append(
            ServedTip(
                id=uuid.uuid4(),
                user=people[int(d.user)],
                item_ref=d.refs[d.chosen],
                source="sim",
                kind="task",
                content="simulated",
                features=d.rows[d.chosen],
                candidates={"refs": d.refs, "keys": list(d.keys), "values": d.values.tolist()},
                candidate_count=len(d.refs),
                policy_id="random",
                policy_version="1",
                score=0.0,
                propensity=d.propensity,
                latency_ms=1.0,
                served_at=at,
                reacted_at=at + timedelta(seconds=30),
                reaction="done",
                shadowed=2,  # history with its own shadow decisions: not replayed
                reward=d.reward,
            )
        )
    for i in range(0, len(rows), 200):
        await ServedTip.insert(*rows[i : i + 200])
    yield people
    await ServedTip.delete().where(ServedTip.user.is_in(people))


@pytest.fixture
def only_logged_people(logged_people: list[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Evaluation reads the real decision log, minus other tests' tips in the shared database
    (their reactions are scripted — always "done" — and would only add noise to the numbers)."""
    people = set(logged_people)

    async def mine(*args: Any, **kwargs: Any) -> list[LoggedTip]:
        return [t for t in await rewarded_decisions(*args, **kwargs) if t.user_id in people]

    monkeypatch.setattr(evaluation, "rewarded_decisions", mine)
    return logged_people


@pytest.fixture
async def registry_back() -> AsyncIterator[None]:
    await registry.ensure_registry()
    before = await PolicyRegistry.select()
    yield
    await PolicyRegistry.update({PolicyRegistry.active_slot: None}).where(
        PolicyRegistry.active_slot.is_not_null()
    )
    for row in before:
        await PolicyRegistry.update(
            {
                PolicyRegistry.status: row["status"],
                PolicyRegistry.active_slot: row["active_slot"],
                PolicyRegistry.promoted_at: row["promoted_at"],
            }
        ).where(PolicyRegistry.id == row["id"])
    forget_serving()  # the rows were rewritten behind the registry's back
    install_promotion_estimator()  # as every web process has it


async def test_the_log_window_is_replayed_for_any_policy(only_logged_people: list[str]) -> None:
    since = datetime.now(UTC) - timedelta(days=11)
    n, results = await estimate_window(["random", "oo-v1"], since, bootstrap=100)
    assert n >= 900
    rand, ours = results
    assert rand.served >= 900
    assert rand.estimates["snips"].value == pytest.approx(rand.served_mean, abs=0.05)
    for r in results:
        assert set(r.estimates) == {"ips", "snips", "dr"}
        assert all(e.low <= e.value <= e.high for e in r.estimates.values())
    assert ours.estimates["dr"].value > rand.estimates["dr"].value
    # An empty window says so rather than inventing numbers.
    assert await estimate_window(["random"], datetime.now(UTC) + timedelta(days=1)) == (0, [])


async def test_a_shadow_whose_lower_bound_beats_the_incumbent_is_promoted(
    only_logged_people: list[str], registry_back: None
) -> None:
    estimate = await promotion_estimate("oo-v1", "random")
    assert estimate is not None
    assert estimate.estimator == "DR"
    assert estimate.candidate_lower > estimate.incumbent

    same = await promotion_estimate("random", "random")
    assert same is not None
    assert same.candidate_lower < same.incumbent, "no policy beats itself"

    install_promotion_estimator()
    await _log_oo_v1_shadow(only_logged_people)
    entry, evidence = await registry.promote(None, "oo-v1", force=False, reason="evidence")
    assert entry.status == registry.ACTIVE
    assert evidence.estimator == "DR"
    assert evidence.candidate_lower is not None
    assert evidence.incumbent_estimate is not None
    assert evidence.candidate_lower > evidence.incumbent_estimate


async def test_a_lower_bound_from_too_few_effective_decisions_is_refused(
    only_logged_people: list[str], registry_back: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    estimate = await promotion_estimate("oo-v1", "random")
    assert estimate is not None
    assert estimate.ess is not None
    assert estimate.candidate_lower > estimate.incumbent, "it would clear the bar"
    # The same log, but a gate above what its weights are worth: the ESS refuses it.
    monkeypatch.setattr(evaluation, "MIN_ESS", estimate.ess + 1)
    install_promotion_estimator()
    await _log_oo_v1_shadow(only_logged_people)
    with pytest.raises(registry.RegistryError) as refused:
        await registry.promote(None, "oo-v1", force=False, reason="evidence")
    assert refused.value.code == "INSUFFICIENT_EVIDENCE"
    assert "effective sample size" in refused.value.message
    evidence = refused.value.evidence
    assert evidence is not None
    assert evidence.effective_sample_size == pytest.approx(estimate.ess)
    active = [e.policy_id for e in await registry.entries() if e.status == registry.ACTIVE]
    assert "oo-v1" not in active


async def _log_oo_v1_shadow(people: list[str]) -> None:
    """Enough oo-v1 shadow decisions on `people`'s served tips for the promotion gate to judge."""
    tips = (
        await ServedTip.select(ServedTip.id, ServedTip.item_ref)
        .where(ServedTip.user.is_in(people))
        .limit(registry.MIN_SHADOW_DECISIONS)
    )
    await ShadowDecision.insert(
        *[
            ShadowDecision(
                tip=t["id"],
                policy_id="oo-v1",
                policy_version=get_policy("oo-v1").version,
                item_ref=t["item_ref"],
                score=0.0,
                propensity=0.5,
                served_propensity=0.5,
            )
            for t in tips
        ]
    )
