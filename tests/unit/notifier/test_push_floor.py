"""The tip floor relative to the person: a tip is judged against the person's own recent tips,
so the same score passes for one person and waits for another, whatever the scale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.recommender import push_floor, push_policy
from backend.simulation import push_sim
from backend.simulation.personas import get_persona


def test_the_rank_is_the_share_of_recent_scores_below_with_ties_counting_half() -> None:
    recent = [0.1, 0.2, 0.3, 0.4, 0.5]
    assert push_floor.score_rank(0.05, recent) == (0.0, 5)
    assert push_floor.score_rank(0.9, recent) == (1.0, 5)
    assert push_floor.score_rank(0.3, recent) == (pytest.approx(0.5), 5)
    assert push_floor.score_rank(0.35, recent) == (pytest.approx(0.6), 5)


def test_the_same_score_passes_for_one_person_and_waits_for_another() -> None:
    modest = [-0.6, -0.5, -0.4, -0.3, -0.2, 0.0]  # a policy or person whose scores run low
    generous = [0.7, 0.75, 0.8, 0.85, 0.9, 0.95]  # one whose scores run high
    assert not push_floor.judge(0.1, modest).holds
    held = push_floor.judge(0.1, generous)
    assert held.holds
    assert held.rank == 0.0
    assert held.as_context() == {"score_rank": 0.0, "floor": push_floor.QUANTILE, "recent_tips": 6}


def test_the_scale_does_not_matter_only_the_order() -> None:
    recent = [0.05, 0.1, 0.2, 0.3, 0.4, 0.6]
    for score in (0.08, 0.25, 0.5):
        plain = push_floor.judge(score, recent)
        scaled = push_floor.judge(score * 10 - 3, [s * 10 - 3 for s in recent])
        assert (plain.rank, plain.holds) == (scaled.rank, scaled.holds)


def test_no_floor_for_a_newcomer_or_an_unscored_tip() -> None:
    few = [0.9] * (push_floor.MIN_TIPS - 1)
    newcomer = push_floor.judge(-0.9, few)
    assert (newcomer.rank, newcomer.tips, newcomer.holds) == (None, len(few), False)
    # A tip a rule served has no score: the learner alone decides (never held for "0").
    unscored = push_floor.judge(None, [0.5] * 20)
    assert (unscored.rank, unscored.holds) == (None, False)


def test_the_simulated_decider_holds_a_weak_tip_and_remembers_what_it_saw() -> None:
    lark = get_persona("lark")
    eager = push_policy.PushState(
        mean=[4.0] + [0.0] * (len(push_policy.FEATURES) - 1),
        precision=[1e4] * len(push_policy.FEATURES),
        threshold=0.2,
    )  # the learner would push anything: what holds is the floor
    mem = push_sim._Learned(state=eager, peaks=push_sim.peak_hours(lark), preferred=8)
    now = push_sim.START + timedelta(days=3, hours=8)
    for i, score in enumerate((0.5, 0.6, 0.7, 0.8, 0.9)):
        mem.seen[100 + i] = (now - timedelta(hours=i + 1), score)
    mem.seen[99] = (now - timedelta(days=push_floor.WINDOW_DAYS + 1), 0.99)  # out of the window
    weak = push_sim.Candidate(
        id=1, at=now, appeal=0.0, due_now=False, priority=0.0, kind="task", score=0.1
    )
    quiet = push_sim.quiet_window(lark)
    rng = push_sim.random.Random(0)
    assert push_sim._decide("learned", mem, now, [weak], [weak], quiet, rng, "t:lark:0") is None
    assert 99 not in mem.seen
    assert mem.seen[1] == (now, 0.1)  # the weak tip is one of the person's recent tips now
    strong = push_sim.Candidate(
        id=2, at=now, appeal=0.0, due_now=False, priority=0.0, kind="task", score=0.95
    )
    assert push_sim._decide("learned", mem, now, [strong], [strong], quiet, rng, "t:lark:0") is (
        strong
    )
