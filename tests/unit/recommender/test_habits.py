"""Completion habits: shrunk log-lifts, hand-computed; nothing known means exactly 0."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from backend.recommender.features import Candidate, Context, candidate_features, with_habits
from backend.recommender.habits import PRIOR, Completion, Habits, day_part, time_keys

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning, UTC


def _habits() -> Habits:
    done = [
        Completion(MONDAY_9 - timedelta(days=7 * k), "Home", date(2026, 1, 1)) for k in range(6)
    ]  # six Monday mornings, all late
    # Two Work completions on the weekend evenings before (Sunday and Saturday at 21:00).
    done += [Completion(MONDAY_9 + timedelta(hours=12) - timedelta(days=k), "Work") for k in (1, 2)]
    return Habits.from_completions(done, "UTC")


def test_counts_by_project_time_and_lateness() -> None:
    h = _habits()
    assert h.total == 8
    assert h.late == 6
    assert h.by_project == {"Home": 6, "Work": 2}
    assert h.by_time == {"p0": 6, "wd": 6, "p2": 2, "we": 2}
    assert h.by_project_time["p0|Home"] == 6


def test_project_lift_is_the_shrunk_share_over_the_open_share() -> None:
    h = _habits()
    expected = math.log(((6 + PRIOR * 0.5) / (8 + PRIOR)) / 0.5)
    assert h.project_lift("Home", 0.5) == pytest.approx(expected)
    assert h.project_lift("Work", 0.5) < 0 < h.project_lift("Home", 0.5)
    assert h.project_lift("Home", 0.0) == 0.0, "an absent reference says nothing"


def test_time_lift_favours_the_projects_usual_times() -> None:
    h = _habits()
    monday_morning = MONDAY_9 + timedelta(days=7)
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    assert h.time_lift("Home", monday_morning) > 0
    assert h.time_lift("Home", saturday_night) < 0
    assert h.time_lift("Garden", monday_morning) == 0.0, "no completions of it: no opinion"
    # By hand for Home on a Monday morning: part p0 and weekday wd.
    ref_p0 = (6 + PRIOR * 0.25) / (8 + PRIOR)
    ref_wd = (6 + PRIOR * 5 / 7) / (8 + PRIOR)
    mine_p0 = (6 + PRIOR * ref_p0) / (6 + PRIOR)
    mine_wd = (6 + PRIOR * ref_wd) / (6 + PRIOR)
    hand = math.log(mine_p0 / ref_p0) + math.log(mine_wd / ref_wd)
    assert h.time_lift("Home", monday_morning) == pytest.approx(hand)


def test_late_lift_compares_late_completions_with_the_open_overdue_share() -> None:
    h = _habits()
    assert h.late_lift(0.2) == pytest.approx(math.log(((6 + PRIOR * 0.2) / 12) / 0.2))
    assert Habits().late_lift(0.2) == 0.0


def test_day_parts_and_time_keys() -> None:
    assert [day_part(h) for h in (4, 5, 11, 12, 16, 17, 21, 22)] == [3, 0, 0, 1, 1, 2, 2, 3]
    assert time_keys(datetime(2026, 3, 7, 13, tzinfo=UTC)) == ("p1", "we")


def test_features_carry_habits_only_for_tasks_and_zero_without_history() -> None:
    now = MONDAY_9 + timedelta(days=7)
    home = Candidate("a", "demo", "task", "Tap", project="Home", due_date=date(2026, 3, 1))
    work = Candidate("b", "demo", "task", "Deck", project="Work")
    advice = Candidate("c", "llm", "advice", "Breathe", project="Home")
    plain = Context(now=now, timezone="UTC")
    assert candidate_features(home, plain)["habit_project"] == 0.0
    context = with_habits(plain, _habits(), [home, work, advice])
    assert context.open_share == pytest.approx({"Home": 2 / 3, "Work": 1 / 3})
    assert context.overdue_share == pytest.approx(1 / 3)
    f = candidate_features(home, context)
    assert f["habit_project"] > 0
    assert f["habit_time"] > 0
    assert f["habit_late"] > 0
    assert candidate_features(advice, context)["habit_project"] == 0.0
