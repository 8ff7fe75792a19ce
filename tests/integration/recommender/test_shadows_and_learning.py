"""In-process: shadows score every served tip, every running policy learns, promotion, reset.

Shadows score and learn in the worker's replay (ADR 0046): tests run it for their person."""

from __future__ import annotations

import pytest

from backend.audit import AdminAudit
from backend.contracts.consent import LEARNING_EVERYONE
from backend.profile.service import set_consent
from backend.recommender import registry, service
from backend.recommender.candidate_log import logged_rows
from backend.recommender.policies import all_policies
from backend.recommender.population import refresh_population
from backend.recommender.reward import Action
from backend.recommender.shadow_replay import replay_person
from backend.recommender.state import reset_states
from backend.recommender.tables import PolicyState, PopulationState, ServedTip, ShadowDecision
from tests.integration.recommender.conftest import person_with_tasks

TASKS = [("Water the plants", 1), ("Call the bank", 4), ("Book the dentist", 2), ("Fix it", 3)]


async def test_shadow_picks_are_logged_for_every_served_tip() -> None:
    user = await person_with_tasks(*TASKS)
    active, shadows = await registry.serving()
    assert active.id == "random"
    assert {p.id for p in shadows} == {
        "egreedy-v1",
        "linucb-v1",
        "lints-v1",
        "oo-v1",
        "oo-v2",
        "oo-v3",
        "oo-v4",
        "oo-v5",
    }
    served = []
    for action in (Action.SNOOZE, Action.DISMISS, Action.SNOOZE):
        tip = await service.current_tip(user)
        assert tip is not None
        served.append(tip.id)
        await service.react(user, tip.id, action, 3_000)
    done = await replay_person(user.user_id)
    assert (done.scored, done.learned) == (3, 3)
    assert (await replay_person(user.user_id)).scored == 0, "a decision is replayed once"
    for tip_id in served:
        rows = await ShadowDecision.select().where(ShadowDecision.tip == tip_id)
        assert {r["policy_id"] for r in rows} == {p.id for p in shadows}
        tip = await ServedTip.select().where(ServedTip.id == tip_id).output(load_json=True).first()
        assert tip is not None
        for r in rows:
            assert 0 < r["propensity"] <= 1
            assert 0 < r["served_propensity"] <= 1
            assert r["agrees"] == (r["item_ref"] == tip["item_ref"])
        why = tip["explanation"]
        assert (why["policy_id"], why["candidate_count"]) == ("random", tip["candidate_count"])
        assert why["line"]
        logged = logged_rows(tip["candidates"])
        assert logged is not None
        assert logged[0][0].startswith("demo:")
        assert len(logged[2]) == tip["candidate_count"]
        assert tip["reaction"] in ("snooze", "dismiss")
    # Every running policy learned from every reaction.
    rows = await PolicyState.select(PolicyState.policy_id, PolicyState.updates).where(
        PolicyState.user == user.user_id
    )
    assert {r["policy_id"]: r["updates"] for r in rows} == {p.id: 3 for p in (active, *shadows)}


async def test_tip_view_carries_the_explanation() -> None:
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    again = await service.current_tip(user)  # the stable tip, read back from the log
    assert again is not None
    assert again.explanation == tip.explanation
    assert tip.explanation["policy_id"] == "random"


@pytest.mark.usefixtures("registry_restored")
async def test_disabled_policies_neither_score_nor_learn() -> None:
    user = await person_with_tasks(*TASKS)
    await registry.set_status(None, "linucb-v1", "disabled", "test")
    tip = await service.current_tip(user)
    assert tip is not None
    await replay_person(user.user_id)
    assert await ShadowDecision.count().where(ShadowDecision.tip == tip.id) > 0
    assert (
        await ShadowDecision.count().where(
            (ShadowDecision.tip == tip.id) & (ShadowDecision.policy_id == "linucb-v1")
        )
        == 0
    )
    await service.react(user, tip.id, Action.DONE, 30_000)
    await replay_person(user.user_id)
    ids = {
        r["policy_id"] for r in await PolicyState.select().where(PolicyState.user == user.user_id)
    }
    assert "linucb-v1" not in ids
    assert "oo-v1" in ids


@pytest.mark.usefixtures("registry_restored")
async def test_promotion_is_refused_without_evidence_and_forced_with_audit() -> None:
    with pytest.raises(registry.RegistryError) as refused:
        await registry.promote(None, "oo-v1", force=False, reason="try")
    err = refused.value
    assert err.code == "INSUFFICIENT_EVIDENCE"
    assert err.evidence is not None
    assert err.evidence.required_decisions == registry.MIN_SHADOW_DECISIONS
    assert err.evidence.shadow_decisions < registry.MIN_SHADOW_DECISIONS
    assert "force: true" in err.message
    assert str(err.evidence.shadow_decisions) in err.message

    entry, _ = await registry.promote(None, "oo-v1", force=True, reason="dogfood")
    assert entry.status == "active"
    active, shadows = await registry.serving()
    assert active.id == "oo-v1"
    assert "random" in {p.id for p in shadows}
    audit = (
        await AdminAudit.select()
        .where((AdminAudit.action == "policy.promote") & (AdminAudit.target == "oo-v1"))
        .output(load_json=True)
    )
    assert audit[-1]["detail"]["forced"] is True
    assert audit[-1]["detail"]["reason"] == "dogfood"
    assert audit[-1]["detail"]["from"] == "random"

    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    assert tip.explanation["policy_id"] == "oo-v1"
    assert tip.explanation["features"], "a learning policy explains with features"


@pytest.mark.usefixtures("registry_restored")
async def test_status_rules() -> None:
    for status, code in (("active", "USE_PROMOTE"), ("paused", "INVALID_STATUS")):
        with pytest.raises(registry.RegistryError) as err:
            await registry.set_status(None, "lints-v1", status)
        assert err.value.code == code
    with pytest.raises(registry.RegistryError) as err:
        await registry.set_status(None, "random", "disabled")
    assert err.value.code == "ACTIVE_POLICY"
    with pytest.raises(registry.RegistryError) as err:
        await registry.promote(None, "random", force=True)
    assert err.value.code == "ALREADY_ACTIVE"
    with pytest.raises(registry.RegistryError) as err:
        await registry.promote(None, "nope", force=True)
    assert err.value.code == "NOT_FOUND"


async def test_reset_forgets_and_is_audited() -> None:
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    await service.react(user, tip.id, Action.DISMISS, 2_000)
    await replay_person(user.user_id)
    every = len(all_policies())  # one state per policy, active and shadows alike
    assert await PolicyState.count().where(PolicyState.user == user.user_id) == every
    assert await reset_states(None, user.user_id, "oo-v1", "support ticket") == 1
    assert await PolicyState.count().where(PolicyState.user == user.user_id) == every - 1
    assert await reset_states(None, user.user_id) == every - 1
    assert await PolicyState.count().where(PolicyState.user == user.user_id) == 0
    audit = (
        await AdminAudit.select()
        .where((AdminAudit.action == "policy.reset_state") & (AdminAudit.target == user.user_id))
        .output(load_json=True)
    )
    assert [a["detail"]["deleted"] for a in audit] == [1, every - 1]


async def test_population_rebuild_folds_consenting_feedback() -> None:
    for _ in range(2):
        user = await person_with_tasks(*TASKS)
        await set_consent(user.user_id, LEARNING_EVERYONE, True)
        tip = await service.current_tip(user)
        assert tip is not None
        await service.react(user, tip.id, Action.DONE, 30_000)
    done = await refresh_population(settle_s=0)
    assert done["oo-v1"] >= 2
    assert done["oo-v3"] >= 2
    row = await PopulationState.select().where(PopulationState.policy_id == "oo-v1").first()
    assert row is not None
    assert row["rows"] >= 2
    assert await refresh_population(settle_s=0) == done, "a rebuild starts from scratch"


async def test_oo_v3_runs_as_a_shadow_end_to_end() -> None:
    """oo-v3 scores every served tip in shadow with a logged propensity, and its per-person
    state in the database learns each answer's effect and the person's rewards."""
    user = await person_with_tasks(*TASKS)
    answers = (Action.DONE, Action.SNOOZE, Action.DISMISS, Action.DONE)
    for action in answers:
        tip = await service.current_tip(user)
        assert tip is not None
        await replay_person(user.user_id)
        row = (
            await ShadowDecision.select()
            .where((ShadowDecision.tip == tip.id) & (ShadowDecision.policy_id == "oo-v3"))
            .first()
        )
        assert row is not None
        assert 0 < row["propensity"] <= 1
        await service.react(user, tip.id, action, 30_000 if action == Action.DONE else 3_000)
    await replay_person(user.user_id)
    state = (
        await PolicyState.select(PolicyState.state, PolicyState.updates)
        .where((PolicyState.user == user.user_id) & (PolicyState.policy_id == "oo-v3"))
        .output(load_json=True)
        .first()
    )
    assert state is not None
    assert state["updates"] == len(answers)
    n_done, done_sum, n_not, not_sum = state["state"]["values"]
    assert (n_done, n_not) == (2, 2)
    assert done_sum == 2.0  # two answers in the magic zone
    assert not_sum == pytest.approx(-0.9)  # a snooze and a dismissal
    assert state["state"]["delta"]["n"] == len(answers)
