"""The push decider's hard rules and its learner: each rule holds with its reason, the
threshold moves with outcomes, fatigue decays and recovers, choices are seeded, the person's
good hours are waited for (and named), and unanswered pushes earn a longer rest."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from backend.recommender import push_policy as pp
from backend.recommender import push_rules as rules

NOON = datetime(2026, 3, 4, 12, 0)  # a Wednesday


def _input(**changes: object) -> rules.RuleInput:
    base = rules.RuleInput(now_local=NOON, quiet=(22, 7))
    return rules.RuleInput(**{**base.__dict__, **changes})


def test_nothing_holds_a_push_at_noon_for_a_fresh_tip() -> None:
    assert rules.hold_reason(_input()) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"subscribed": False}, rules.NO_SUBSCRIPTION),
        ({"has_candidate": False}, rules.NO_CANDIDATE),
        ({"now_local": NOON.replace(hour=23)}, rules.QUIET_HOURS),
        ({"now_local": NOON.replace(hour=3)}, rules.QUIET_HOURS),
        ({"quiet": (11, 14)}, rules.QUIET_HOURS),
        ({"kind": "advice", "silenced_kinds": frozenset({"advice"})}, rules.SILENCED),
        ({"context_silenced": True}, rules.SILENCED),
        ({"already_pushed": True}, rules.ALREADY_PUSHED),
        ({"pushes_today": 3}, rules.DAILY_CAP),
        ({"pushes_today": 1, "daily_max": 1}, rules.DAILY_CAP),
        ({"last_push_local": NOON - timedelta(minutes=30)}, rules.SPACING),
        ({"last_activity_local": NOON - timedelta(minutes=2)}, rules.ACTIVE),
    ],
)
def test_each_hard_rule_holds_with_its_reason(changes: dict[str, object], reason: str) -> None:
    assert rules.hold_reason(_input(**changes)) == reason


def test_spacing_and_activity_expire() -> None:
    later = _input(
        last_push_local=NOON - timedelta(minutes=91),
        last_activity_local=NOON - timedelta(minutes=6),
    )
    assert rules.hold_reason(later) is None


def test_quiet_window_wraps_midnight_and_an_empty_one_is_never_quiet() -> None:
    assert [h for h in range(24) if rules.in_quiet(h, 22, 7)] == [0, 1, 2, 3, 4, 5, 6, 22, 23]
    assert [h for h in range(24) if rules.in_quiet(h, 9, 12)] == [9, 10, 11]
    assert not any(rules.in_quiet(h, 5, 5) for h in range(24))
    assert rules.allowed_hours_ahead(NOON.replace(hour=20), (22, 7), 3) == [True, False, False]


def test_fatigue_decays_with_age_and_the_arm_recovers_with_rest() -> None:
    assert pp.fatigue(()) == 0
    assert pp.fatigue((1.0, 2.0)) > pp.fatigue((24.0, 48.0)) > pp.fatigue((96.0, 120.0)) > 0
    assert pp.recovered(0.0) == 0
    assert 0 < pp.recovered(1.0) < pp.recovered(6.0) < pp.recovered(24.0) < 1
    assert pp.recovered(None) == 1
    state = pp.PushState()
    rested = pp.PushContext(local_hour=10, weekend=False)
    tired = pp.PushContext(10, False, unanswered_ages_h=(1.0, 3.0, 5.0), hours_since_last_push=1)
    assert pp.predict(state, tired) < pp.predict(state, rested)
    # Waiting recovers the person: the same situation later is worth more than now.
    assert pp.predict(state, tired.later(24)) > pp.predict(state, tired)


def test_the_threshold_moves_with_outcomes_and_turning_off_costs_most() -> None:
    ctx = pp.PushContext(local_hour=9, weekend=False)
    start = pp.PushState()
    reacted = pp.update(start, ctx, "reacted")
    ignored = pp.update(start, ctx, "ignored")
    dismissed = pp.update(start, ctx, "dismissed")
    off = pp.update(start, ctx, "turned_off")
    assert reacted.threshold < start.threshold < ignored.threshold < dismissed.threshold
    assert off.threshold - start.threshold > 5 * (ignored.threshold - start.threshold)
    assert pp.update(start, ctx, "nonsense") is start
    assert off.outcomes == {"turned_off": 1}


def test_reactions_at_an_hour_teach_the_model_to_prefer_it() -> None:
    morning, night = pp.PushContext(8, False), pp.PushContext(20, False)
    state = pp.PushState()
    for _ in range(40):
        state = pp.update(state, morning, "reacted")
        state = pp.update(state, night, "ignored")
    assert pp.predict(state, morning) > 0.6 > 0.3 > pp.predict(state, night)
    # and waiting for the morning beats pushing at night
    assert pp.wait_value(state, pp.PushContext(4, False)) > pp.predict(state, night)


def test_choices_are_seeded_and_report_a_propensity_of_the_action_taken() -> None:
    state = pp.PushState()
    ctx = pp.PushContext(local_hour=10, weekend=False, due_now=True, priority=1.0)
    first = pp.choose(state, ctx, random.Random(1), propensity_rng=random.Random(2))
    again = pp.choose(state, ctx, random.Random(1), propensity_rng=random.Random(2))
    assert first == again
    assert pp.PROPENSITY_FLOOR <= first.propensity <= 1 - pp.PROPENSITY_FLOOR
    assert first.reason in {"value", "below_threshold", "better_hour"}
    assert first.push == (first.reason == "value")


def test_without_propensity_draws_the_choice_is_the_same_and_claims_no_propensity() -> None:
    state = pp.PushState()
    for hour in range(24):
        ctx = pp.PushContext(local_hour=hour, weekend=False, score=0.8)
        logged = pp.choose(state, ctx, random.Random(hour), propensity_rng=random.Random(7))
        unlogged = pp.choose(state, ctx, random.Random(hour), propensity_draws=0)
        assert (unlogged.push, unlogged.reason) == (logged.push, logged.reason)
        assert unlogged.value_now == logged.value_now
        assert unlogged.propensity == 1.0


def test_a_confident_model_pushes_and_a_discouraged_one_holds() -> None:
    ctx = pp.PushContext(local_hour=10, weekend=False)
    eager = pp.PushState(
        mean=[3.0] + [0.0] * (len(pp.FEATURES) - 1), precision=[1e4] * len(pp.FEATURES)
    )
    pushed = pp.choose(eager, ctx, random.Random(0), [False] * pp.WAIT_HOURS)
    assert pushed.push
    assert pushed.reason == "value"
    assert pushed.propensity > 0.9
    shy = pp.PushState(
        mean=[-4.0] + [0.0] * (len(pp.FEATURES) - 1), precision=[1e4] * len(pp.FEATURES)
    )
    held = pp.choose(shy, ctx, random.Random(0))
    assert not held.push
    assert held.reason == "below_threshold"


def test_state_survives_the_database_round_trip() -> None:
    state = pp.update(pp.PushState(), pp.PushContext(9, True), "reacted")
    assert pp.PushState.from_json(state.as_json()) == state
    assert pp.PushState.from_json({"v": 0}) == pp.PushState()
    assert pp.PushState.from_json(None) == pp.PushState()


def test_ignored_pushes_raise_the_persons_threshold_and_lengthen_their_rest() -> None:
    ctx = pp.PushContext(local_hour=9, weekend=False)
    state = pp.PushState()
    assert pp.rest_hours(state) == 0
    thresholds, rests = [state.threshold], [pp.rest_hours(state)]
    for _ in range(4):
        state = pp.update(state, ctx, "ignored")
        thresholds.append(state.threshold)
        rests.append(pp.rest_hours(state))
    assert thresholds == sorted(thresholds)
    assert thresholds[-1] > thresholds[0]
    assert rests == sorted(rests)
    assert 0 < rests[1] < rests[-1] <= pp.REST_MAX_H
    assert state.misses == 4
    # one reaction ends the rest and lowers the threshold a little
    answered = pp.update(state, ctx, "reacted")
    assert answered.misses == 0
    assert pp.rest_hours(answered) == 0
    assert answered.threshold < state.threshold


def test_the_agents_peak_hours_seed_the_hour_before_any_outcome() -> None:
    state = pp.PushState()
    peak = pp.PushContext(local_hour=18, weekend=False, peak_hours=(17, 18), preferred_hour=18)
    off_peak = pp.PushContext(local_hour=14, weekend=False, peak_hours=(17, 18), preferred_hour=18)
    assert pp.predict(state, peak) > pp.predict(state, off_peak)


def test_a_later_better_hour_holds_the_push_and_names_the_hour() -> None:
    # Sure of the evening, unsure of the afternoon: at 14:00 the learner waits for 17:00 or 18:00.
    state = pp.PushState(precision=[1e4] * len(pp.FEATURES))
    state.mean[pp.FEATURES.index("bias")] = -0.5
    state.mean[pp.FEATURES.index("peak")] = 2.5
    state.threshold = 0.3
    ctx = pp.PushContext(local_hour=14, weekend=False, peak_hours=(17, 18))
    choice = pp.choose(state, ctx, random.Random(0), propensity_rng=random.Random(1))
    assert not choice.push
    assert choice.reason == "better_hour"
    assert choice.wait_hours == 3  # the first peak hour, 17:00 (later ones are discounted)
    assert choice.value_wait > choice.value_now >= choice.threshold
    assert choice.propensity > 0.9
    # at 17:00 the same learner pushes
    at_peak = pp.choose(state, ctx.later(3), random.Random(0), propensity_rng=random.Random(1))
    assert at_peak.push
    assert at_peak.wait_hours == 0
    # a quiet evening (hard rules) leaves nothing better to wait for: no hold for it
    nothing_later = pp.choose(state, ctx, random.Random(0), [False] * pp.WAIT_HOURS)
    assert nothing_later.reason != "better_hour"


def test_a_state_stored_before_the_hour_features_keeps_what_it_learned() -> None:
    old = {
        "v": 1,
        "mean": [0.5 + i for i in range(len(pp.V1_FEATURES))],
        "precision": [20.0] * len(pp.V1_FEATURES),
        "threshold": 0.42,
        "outcomes": {"reacted": 2},
    }
    state = pp.PushState.from_json(old)
    for name, learned in zip(pp.V1_FEATURES, old["mean"], strict=True):
        assert state.mean[pp.FEATURES.index(name)] == learned
    assert state.mean[pp.FEATURES.index("peak")] == pp.PRIOR_MEAN["peak"]
    assert (state.threshold, state.outcomes, state.misses) == (0.42, {"reacted": 2}, 0)
    assert pp.PushState.from_json(state.as_json()) == state
