"""History features (repeated nudges, usual hour, project affinity), explanations, array storage."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from backend.recommender.explain import explanation
from backend.recommender.features import Candidate, Context, candidate_features
from backend.recommender.history import UserHistory
from backend.recommender.policies import Contribution, Decision, OOPolicy, RandomPolicy
from backend.recommender.policies.arrays import pack, unpack
from backend.recommender.policies.vectors import OO_NAMES, oo

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def row(
    ref: str, hours_ago: float, reaction: str | None, project: str = "Home"
) -> dict[str, object]:
    served = NOW - timedelta(hours=hours_ago)
    return {
        "item_ref": ref,
        "project": project,
        "served_at": served,
        "reaction": reaction,
        "reacted_at": served + timedelta(minutes=1) if reaction else None,
    }


def test_served_and_ignored_counts_and_recency() -> None:
    history = UserHistory.from_rows(
        [row("a", 30, "snooze"), row("a", 5, None), row("a", 2, "dismiss"), row("b", 1, "done")],
        "UTC",
    )
    a = history.items["a"]
    assert (a.served, a.ignored, a.last_served) == (3, 3, NOW - timedelta(hours=2))
    assert (history.items["b"].served, history.items["b"].ignored) == (1, 0)
    task = Candidate("a", "demo", "task", "x", project="Home")
    f = candidate_features(task, Context(now=NOW, history=history))
    assert (f["served_count"], f["ignored_count"]) == (3.0, 3.0)
    assert f["hours_since_served"] == pytest.approx(2.0)
    x = oo([f])[0]
    assert x[OO_NAMES.index("fatigue")] == pytest.approx(1 - math.exp(-1.5))
    assert x[OO_NAMES.index("just_served")] == pytest.approx(math.exp(-2 / 24))
    never = candidate_features(Candidate("new", "demo", "task", "x"), Context(now=NOW))
    assert oo([never])[0][OO_NAMES.index("just_served")] == pytest.approx(0.0, abs=1e-12)


def test_usual_hour_is_a_circular_mean() -> None:
    # Done at 23:01 and 01:01 local: the usual hour is about midnight, not noon.
    rows = [
        {"item_ref": "a", "project": "", "served_at": NOW, "reaction": "done",
         "reacted_at": datetime(2026, 3, 9, 23, 1, tzinfo=UTC)},
        {"item_ref": "b", "project": "", "served_at": NOW, "reaction": "done",
         "reacted_at": datetime(2026, 3, 10, 1, 1, tzinfo=UTC)},
    ]  # fmt: skip
    history = UserHistory.from_rows(rows, "UTC")
    assert history.usual_hour is not None
    assert min(history.usual_hour, 24 - history.usual_hour) < 0.1
    assert 0 < history.hour_strength < 1  # shrunk: two completions are weak evidence
    # Local time: the same instants are 00:01 and 02:01 in Paris (UTC+1 in March).
    paris = UserHistory.from_rows(rows, "Europe/Paris")
    assert paris.usual_hour == pytest.approx(1.0 + 1 / 60, abs=0.05)


def test_project_affinity_is_shrunk() -> None:
    history = UserHistory.from_rows(
        [row("a", 3, "done", "Work"), row("b", 2, "done", "Work"), row("c", 1, "dismiss", "Home")],
        "UTC",
    )
    assert history.projects["Work"] == pytest.approx(2 / 4)
    assert history.projects["Home"] == pytest.approx(-1 / 3)


def test_explanation_line_and_top_features() -> None:
    task = Candidate(
        "demo:1", "demo", "task", "Renew the passport", due_date=date(2026, 3, 7), project="Home"
    )
    history = UserHistory(usual_hour=9.2, hour_strength=0.8)
    raw = candidate_features(task, Context(now=NOW, history=history))
    assert raw["days_overdue"] == 3.0
    decision = Decision(
        choice=0,
        propensity=0.9,
        scores=[0.7],
        explored=False,
        probabilities=[1.0],
        contributions=[
            Contribution("bias", 1.0, 0.5),
            Contribution("is_overdue", 1.0, 0.4),
            Contribution("task_now", 0.8, 0.3),
            Contribution("fatigue", 0.5, -0.1),
            Contribution("priority", 0.0, 0.2),
        ],
    )
    why = explanation(OOPolicy(), decision, task, raw, candidate_count=12)
    assert why["line"] == "Overdue 3 days, and you usually finish things around 9."
    assert [f["name"] for f in why["features"]] == ["is_overdue", "task_now", "fatigue"]
    assert why["features"][1] == {
        "name": "task_now",
        "value": 0.8,
        "weight": 0.3,
        "contribution": 0.24,
    }
    assert (why["policy_id"], why["candidate_count"], why["explored"]) == ("oo-v1", 12, False)


def test_explanation_of_random_and_of_exploration() -> None:
    task = Candidate("demo:1", "demo", "task", "x")
    random_pick = RandomPolicy(seed=0).score({}, Context(now=NOW), [task])
    assert "random" in explanation(RandomPolicy(), random_pick, task, {}, 1)["line"]
    explored = Decision(0, 0.02, [0.0], True, [1.0], [Contribution("due_today", 1.0, 0.3)])
    line = explanation(OOPolicy(), explored, task, {"due_today": 1.0}, 5)["line"]
    assert line == "Trying something different, to learn what works for you (due today)."


def test_arrays_round_trip_exactly_and_refuse_non_finite() -> None:
    a = np.random.default_rng(0).normal(size=(4, 3))
    assert np.array_equal(unpack(pack(a)), a)
    with pytest.raises(ValueError, match="non-finite"):
        pack(np.array([1.0, math.nan]))
    bad = pack(a)
    bad["shape"] = [5, 3]
    with pytest.raises(ValueError, match="needs"):
        unpack(bad)
    with pytest.raises(ValueError, match="dtype"):
        unpack({**pack(a), "dtype": "<f4"})


def test_completion_habits_explain_themselves_in_plain_words() -> None:
    task = Candidate("demo:2", "demo", "task", "Water the plants", project="Home")
    decision = Decision(
        choice=0,
        propensity=0.9,
        scores=[0.5],
        explored=False,
        probabilities=[1.0],
        contributions=[
            Contribution("habit_time", 1.2, 0.3),
            Contribution("habit_project", 0.8, 0.2),
            Contribution("habit_late", 0.0, 0.4),
        ],
    )
    why = explanation(OOPolicy(), decision, task, {"habit_time": 1.2, "habit_project": 0.8}, 3)
    assert why["line"] == (
        "This is when your Home things get done, and you get a lot of Home done."
    )
