"""The shadows' replay in the worker (ADR 0046): each decision scored once, from its log, with
the state the shadow had at that point; each reward learned once, in order; promotion first
lets the shadows catch up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.contracts.candidate import Candidate
from backend.recommender import policies as policy_registry
from backend.recommender import service, shadow_replay
from backend.recommender.candidate_log import logged_rows
from backend.recommender.decision_log import rewarded_decisions
from backend.recommender.features import Context
from backend.recommender.policies import Decision, UserState
from backend.recommender.registry import serving as registry_serving
from backend.recommender.registry_cache import forget_serving
from backend.recommender.reward import Action
from backend.recommender.shadow_replay import (
    _PENDING_OF_PERSON,
    _PENDING_PEOPLE,
    PENDING_SQL,
    REPLAYED,
    SCORED,
    _pending_rows,
    _still_pending,
    logged_candidates,
    pending_people,
    replay_pending,
    replay_person,
)
from backend.recommender.tables import (
    Feedback,
    PolicyRegistry,
    PolicyState,
    ServedTip,
    ShadowDecision,
)
from tests.integration.recommender.conftest import person_with_tasks

TASKS = [("Water the plants", 1), ("Call the bank", 4), ("Book the dentist", 2), ("Fix it", 3)]


class Probe:
    """A shadow whose pick says how many rewards it had learned: candidate `learned % n`."""

    id = "probe-v1"
    version = "1"
    description = "test: picks the candidate its count of learned rewards points at"

    def initial_state(self) -> UserState:
        return {"learned": 0, "rewards": [], "seen": []}

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        n = len(candidates)
        k = int(user_state["learned"]) % n
        return Decision(
            choice=k,
            propensity=1.0 / n,
            scores=[float(i == k) for i in range(n)],
            probabilities=[1.0 / n] * n,
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        seen = [candidate.item_ref, candidate.project, candidate.priority]
        return {
            "learned": int(user_state["learned"]) + 1,
            "rewards": [*user_state["rewards"], reward],
            "seen": [*user_state["seen"], seen],
        }


@pytest.fixture
async def probe(registry_restored: None) -> AsyncIterator[Probe]:
    """The probe registered in code and running in shadow; gone afterwards."""
    policy = Probe()
    policy_registry.register(policy)
    now = datetime.now(UTC)
    await PolicyRegistry.insert(
        PolicyRegistry(
            policy_id=policy.id,
            version=policy.version,
            status="shadow",
            created_at=now,
            updated_at=now,
        )
    )
    forget_serving()
    yield policy
    await PolicyRegistry.delete().where(PolicyRegistry.policy_id == policy.id)
    policy_registry._REGISTRY.pop(policy.id, None)
    forget_serving()


async def _tip(tip_id: str) -> dict[str, Any]:
    row = await ServedTip.select().where(ServedTip.id == tip_id).output(load_json=True).first()
    assert row is not None
    return row


async def test_each_decision_is_scored_with_the_rewards_learned_before_it(probe: Probe) -> None:
    user = await person_with_tasks(*TASKS)
    served = []
    for action in (Action.SNOOZE, Action.DONE, Action.DISMISS):
        tip = await service.current_tip(user)
        assert tip is not None
        served.append(tip.id)
        await service.react(user, tip.id, action, 30_000 if action is Action.DONE else 3_000)
    assert await ShadowDecision.count().where(ShadowDecision.tip.is_in(served)) == 0, (
        "nothing is scored on the request path"
    )

    done = await replay_person(user.user_id)

    assert (done.scored, done.learned) == (3, 3)
    for learned_before, tip_id in enumerate(served):
        row = await _tip(tip_id)
        logged = logged_rows(row["candidates"])
        assert logged is not None
        refs = logged[0]
        pick = (
            await ShadowDecision.select()
            .where((ShadowDecision.tip == tip_id) & (ShadowDecision.policy_id == probe.id))
            .first()
        )
        assert pick is not None
        assert pick["item_ref"] == refs[learned_before % len(refs)]
        assert pick["agrees"] == (pick["item_ref"] == row["item_ref"])
        assert pick["served_propensity"] == pytest.approx(1 / len(refs))
        assert row["shadowed"] == REPLAYED
    state = (
        await PolicyState.select(PolicyState.state, PolicyState.updates)
        .where((PolicyState.user == user.user_id) & (PolicyState.policy_id == probe.id))
        .output(load_json=True)
        .first()
    )
    assert state is not None
    assert state["updates"] == 3
    rewards = [
        r["reward"]
        for tip_id in served
        for r in await Feedback.select(Feedback.reward).where(Feedback.tip == tip_id)
    ]
    assert state["state"]["rewards"] == pytest.approx(rewards)
    priorities = dict(TASKS)
    for (ref, project, priority), tip_id in zip(state["state"]["seen"], served, strict=True):
        row = await _tip(tip_id)
        assert ref == row["item_ref"]
        assert project == "Home"
        assert priority == priorities[row["content"]], "learned with the served task's priority"


async def test_a_decision_is_scored_once_and_its_reward_learned_when_it_comes(
    probe: Probe,
) -> None:
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    assert user.user_id in await pending_people(limit=10_000)

    first = await replay_person(user.user_id)
    assert (first.scored, first.learned) == (1, 0)
    assert (await _tip(tip.id))["shadowed"] == SCORED
    again = await replay_person(user.user_id)
    assert (again.scored, again.learned) == (0, 0), "an unanswered decision waits"
    assert user.user_id not in await pending_people(limit=10_000)

    await service.react(user, tip.id, Action.SNOOZE, 3_000)
    assert user.user_id in await pending_people(limit=10_000)
    after = await replay_person(user.user_id)
    assert (after.scored, after.learned) == (0, 1)
    assert (await _tip(tip.id))["shadowed"] == REPLAYED
    shadows = await ShadowDecision.count().where(
        (ShadowDecision.tip == tip.id) & (ShadowDecision.policy_id == probe.id)
    )
    assert shadows == 1


async def test_the_log_gives_back_the_candidates_as_policies_saw_them() -> None:
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    found = logged_candidates((await _tip(tip.id))["candidates"])
    assert found is not None
    candidates, table = found
    by_ref = {c.item_ref: c for c in candidates}
    assert len(by_ref) == len(TASKS)
    assert {c.project for c in candidates} == {"Home"}
    assert sorted(c.priority for c in candidates) == sorted(p for _, p in TASKS)
    assert {c.kind for c in candidates} == {"task"}
    assert table.refs == [c.item_ref for c in candidates]
    assert table.values.shape == (len(TASKS), len(table.keys))


@pytest.mark.usefixtures("registry_restored")
async def test_promotion_lets_the_shadows_catch_up_first() -> None:
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    await service.react(user, tip.id, Action.DISMISS, 3_000)  # random learns it inline
    assert (await _tip(tip.id))["shadowed"] == 0

    await shadow_replay.promote(None, "oo-v1", force=True, reason="test")

    assert (await _tip(tip.id))["shadowed"] == REPLAYED
    rows = await PolicyState.select(PolicyState.policy_id, PolicyState.updates).where(
        PolicyState.user == user.user_id
    )
    updates = {r["policy_id"]: r["updates"] for r in rows}
    assert updates["oo-v1"] == 1, "the promoted policy took over with the reward learned"
    assert updates["random"] == 1, "the incumbent did not learn it again as a shadow"
    again = await replay_person(user.user_id)
    assert (again.scored, again.learned) == (0, 0)


def test_the_pending_queries_say_what_the_index_holds() -> None:
    # The partial index is used only when a query repeats its predicate literally.
    assert PENDING_SQL in _PENDING_PEOPLE
    assert PENDING_SQL in _PENDING_OF_PERSON


async def test_the_worker_replays_every_five_seconds(
    probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.recommender.jobs import replay_shadows
    from backend.settings import get_settings
    from worker.settings import WorkerSettings

    crons = {c.name: c for c in WorkerSettings.cron_jobs}
    job = next(c for name, c in crons.items() if name.endswith("replay_shadows"))
    assert job.second == set(range(0, 60, 5))
    assert job.unique
    assert replay_shadows in WorkerSettings.functions

    await replay_pending(budget_s=float("inf"))  # what earlier tests left: not this test's
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    await service.react(user, tip.id, Action.DONE, 30_000)
    # The test harness turns the job off (OO_SHADOW_REPLAY=false): it then leaves all as it is.
    assert await replay_shadows({}) == {"people": 0, "scored": 0, "learned": 0}
    assert (await _tip(tip.id))["shadowed"] == 0
    monkeypatch.setenv("OO_SHADOW_REPLAY", "true")
    get_settings.cache_clear()
    try:
        found = await replay_shadows({})  # what the cron calls, with the worker's empty context
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert found == {"people": 1, "scored": 1, "learned": 1}
    assert (await _tip(tip.id))["shadowed"] == REPLAYED


async def test_a_log_that_does_not_read_is_passed_over_not_retried(probe: Probe) -> None:
    user = await person_with_tasks(*TASKS)
    now = datetime.now(UTC)
    bad = ServedTip(
        user=user.user_id,
        item_ref="demo:x",
        source="demo",
        kind="task",
        content="x",
        candidates={"refs": ["demo:x"], "keys": ["priority"], "values": [["not a number"]]},
        candidate_count=1,
        policy_id="random",
        policy_version="1",
        score=0.0,
        propensity=1.0,
        latency_ms=1.0,
        served_at=now,
        reacted_at=now,
        reaction="done",
        reward=1.0,
    )
    await bad.save()
    done = await replay_person(user.user_id)
    assert (done.scored, done.learned) == (1, 1)
    assert (await _tip(str(bad.id)))["shadowed"] == REPLAYED
    assert await ShadowDecision.count().where(ShadowDecision.tip == bad.id) == 0
    # Off-policy evaluation passes over it too, rather than failing everyone's estimate.
    logged = await rewarded_decisions(now - timedelta(seconds=1))
    assert str(bad.id) not in {t.tip_id for t in logged}


async def test_a_replay_that_finds_its_rows_moved_meanwhile_writes_nothing(probe: Probe) -> None:
    user = await person_with_tasks(*TASKS)
    tip = await service.current_tip(user)
    assert tip is not None
    read = await _pending_rows(user.user_id)  # what a slower replay read before computing
    assert await _still_pending(read)
    assert (await replay_person(user.user_id)).scored == 1  # another replay got there first
    assert not await _still_pending(read)
    again = await replay_person(user.user_id)
    assert (again.scored, again.learned) == (0, 0)
    assert await ShadowDecision.count().where(ShadowDecision.tip == tip.id) == len(
        (await registry_serving())[1]
    ), "each shadow scored the decision once"
