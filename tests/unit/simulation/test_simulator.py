"""The simulator: reproducible from a seed, the oracle is the ceiling, the world is believable."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from backend.integrations.taskgen import PROJECT_TASKS
from backend.simulation.metrics import summarise, table
from backend.simulation.personas import get_persona
from backend.simulation.runner import SimConfig, simulate
from backend.simulation.world import DISMISS_S, SNOOZE_S, World

SMALL = SimConfig(
    policies=("random", "oo-v1"), personas=("lark", "night-owl"), decisions=40, seed=11
)


def _arrays(config: SimConfig) -> dict[str, list[float]]:
    result = simulate(config)
    return {pid: run.reward.ravel().tolist() for pid, run in result.runs.items()} | {
        "events": [e["item_ref"] for e in result.events]  # type: ignore[dict-item]
    }


def test_same_seed_same_run_other_seed_other_run() -> None:
    first = _arrays(SMALL)
    assert _arrays(SMALL) == first
    other = _arrays(SimConfig(**{**SMALL.__dict__, "seed": 12}))
    assert other["oo-v1"] != first["oo-v1"]


def test_every_policy_meets_the_same_people_on_the_same_days() -> None:
    a = World(get_persona("lark"), seed=3, user=1)
    b = World(get_persona("lark"), seed=3, user=1)
    times = [a.next_time() for _ in range(30)]
    assert [b.next_time() for _ in range(30)] == times
    assert times == sorted(times)
    assert [t.content for t in a.tasks] == [t.content for t in b.tasks]


def test_tasks_come_from_the_shared_generator_and_keep_arriving() -> None:
    w = World(get_persona("nine-to-five"), seed=0, user=0)
    assert all(t.content.split(" (follow-up")[0] in PROJECT_TASKS[t.project] for t in w.tasks)
    start = w.start
    first_day = w.open_tasks(start)
    later = w.open_tasks(start + timedelta(days=10))
    assert len(later) > len(first_day), "new tasks arrive"
    assert any(t.recur_days for t in w.tasks), "some recur"


def test_snooze_and_dismiss_hide_for_the_services_durations() -> None:
    w = World(get_persona("lark"), seed=0, user=0)
    now = w.next_time()
    w.advance(now)
    first, second = w.open_tasks(now)[:2]
    w.apply(first, "snooze", now, 5000)
    w.apply(second, "dismiss", now, 5000)
    soon = now + timedelta(seconds=SNOOZE_S - 60)
    assert first not in w.open_tasks(soon)
    back = now + timedelta(seconds=SNOOZE_S + 60)
    assert first in w.open_tasks(back)
    assert second not in w.open_tasks(back)
    assert second in w.open_tasks(now + timedelta(seconds=DISMISS_S + 60))
    assert w.exposure(first, back) > 0.9, "a push that was not done wears the person out"


def test_the_oracle_is_never_beaten_in_expectation_on_a_long_run() -> None:
    config = SimConfig(
        policies=("random", "egreedy-v1", "oo-v1"),
        personas=("busy-parent", "retiree"),
        decisions=400,
        seed=5,
        events="none",
    )
    result = simulate(config)
    oracle = np.nanmean(result.runs["oracle"].expected)
    for pid, run in result.runs.items():
        # Pointwise: nothing served has a higher expected reward than the best candidate.
        done = ~np.isnan(run.expected)
        assert np.all(run.expected[done] <= run.best[done] + 1e-12)
        assert np.nanmean(run.expected) <= oracle + 1e-9, pid
    summary = summarise(result)
    assert summary["policies"]["oracle"]["regret"] == pytest.approx(0.0)
    assert (
        summary["policies"]["oo-v1"]["mean_reward"] > summary["policies"]["random"]["mean_reward"]
    )
    text = table(summary)
    assert "% of oracle" in text
    assert "busy-parent" in text


def test_events_are_sampled_to_the_limit() -> None:
    result = simulate(SimConfig(**{**SMALL.__dict__, "event_limit": 50}))
    assert 0 < len(result.events) <= 60
    assert {e["policy_id"] for e in result.events} == {"oracle", "random", "oo-v1"}
    none = simulate(SimConfig(**{**SMALL.__dict__, "events": "none"}))
    assert none.events == []


def test_bad_configs_are_refused() -> None:
    for bad in (
        SimConfig(policies=("nope",)),
        SimConfig(personas=("nobody",)),
        SimConfig(judge="coin"),
        SimConfig(decisions=0),
    ):
        with pytest.raises((ValueError, KeyError)):
            bad.validate()


def test_people_arrive_with_a_completion_history_that_reflects_their_persona() -> None:
    from datetime import datetime

    from backend.simulation.past import PAST_DAYS

    owl = get_persona("night-owl")
    first, again = World(owl, 3, 7), World(owl, 3, 7)
    assert first.completions == again.completions, "the same person has the same past"
    assert first.completions != World(owl, 4, 7).completions
    assert len(first.completions) >= 30, "six weeks of finishing things"
    assert all(
        first.start - timedelta(days=PAST_DAYS) <= c.at < first.start for c in first.completions
    )
    habits = first.habits(first.start + timedelta(hours=12))
    # The night owl does Learning at night (+1.0) and never in the morning (-0.5): their past
    # says so without a single tip served.
    assert "Learning" in habits.by_project
    night = datetime(2026, 3, 3, 23, 0, tzinfo=first.tz)
    morning = datetime(2026, 3, 3, 8, 0, tzinfo=first.tz)
    assert habits.time_lift("Learning", night) > habits.time_lift("Learning", morning)


def test_regret_splits_into_the_model_and_exploring() -> None:
    result = simulate(SimConfig(**{**SMALL.__dict__, "events": "none"}))
    summary = summarise(result)
    policies = summary["policies"]
    # The oracle's best guess is the best candidate, and it serves it: no regret of either kind.
    assert policies["oracle"]["model_regret"] == pytest.approx(0.0)
    assert policies["oracle"]["exploration_regret"] == pytest.approx(0.0)
    # Random scores every candidate alike: it has no best guess to split at.
    assert policies["random"]["model_regret"] is None
    learner = policies["oo-v1"]
    assert learner["model_regret"] >= 0.0
    # Together the two parts are the regret, decision by decision.
    assert learner["model_regret"] + learner["exploration_regret"] == pytest.approx(
        learner["regret"]
    )
    for half in ("first_half", "second_half"):
        assert learner[f"model_regret_{half}"] is not None
    text = table(summary)
    assert "regret split" in text
    assert "oo-v1" in text.split("regret split")[1]
