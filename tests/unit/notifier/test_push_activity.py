"""The time-of-day agent's hour profiles and the push learner's activity feature."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import timedelta

from agents.inference import run_inference
from agents.time_of_day import MANIFEST, check_profile, profile_of
from backend.notifier.decider import context_of
from backend.notifier.push_settings import _profile
from backend.recommender import push_policy as pp
from backend.simulation import push_persona
from backend.simulation.personas import select_personas
from tests.unit.agents.histories import NOW, done, history

EVENING = tuple(1.0 if h in (19, 20) else 0.1 for h in range(24))


def test_the_profile_is_relative_to_the_busiest_hour_and_no_hour_is_zero() -> None:
    counts = [0] * 24
    counts[9], counts[15] = 9, 4
    profile = profile_of(counts)
    assert profile[9] == 1.0
    assert profile[15] == 0.5  # (4 + 1) / (9 + 1)
    assert profile[3] == 0.1  # never seen: the pseudo-count, not 0
    assert profile_of([0] * 24) == [1.0] * 24  # nothing known: flat


def test_weekdays_and_weekends_are_profiled_apart() -> None:
    # NOW is a Friday: days 1..5 back are Thu..Sun — mornings on weekdays, evenings at weekends.
    events = []
    for back in range(1, 29):
        day = NOW - timedelta(days=back)
        hour = 21 if day.weekday() >= 5 else 8
        events += [done(day.replace(hour=hour, minute=m)) for m in (5, 25, 45)]
    values = run_inference(MANIFEST, history(events)).values
    weekday, weekend = values["hour_profile"], values["hour_profile_weekend"]
    assert weekday.index(1.0) == 8
    assert weekday[21] < 0.1
    assert weekend.index(1.0) == 21
    assert weekend[8] < 0.1


def test_a_profile_a_person_sets_must_be_24_activities() -> None:
    assert check_profile([0.5] * 24) is None
    assert check_profile([0.5] * 23) is not None
    assert check_profile([2.0] * 24) is not None
    assert check_profile([True] * 24) is not None
    assert check_profile("evenings") is not None


def test_the_decider_reads_only_a_well_formed_stored_profile() -> None:
    assert _profile([1, 0.5] * 12) == (1.0, 0.5) * 12
    assert _profile([0.5] * 23) == ()
    assert _profile(["a"] * 24) == ()
    assert _profile(None) == ()


def test_activity_is_the_log_of_the_hour_and_nothing_when_unknown() -> None:
    assert pp.activity((), 19) == 0.0
    assert pp.activity(EVENING, 19) == 0.0
    assert pp.activity(EVENING, 9) == math.log(0.1)
    assert pp.activity((0.0,) * 24, 9) == math.log(pp.ACTIVITY_FLOOR)


def test_before_any_outcome_the_active_hour_is_worth_more_and_a_flat_profile_changes_nothing() -> (
    None
):
    state = pp.PushState()
    active = pp.PushContext(local_hour=19, weekend=False, hour_profile=EVENING)
    idle = pp.PushContext(local_hour=15, weekend=False, hour_profile=EVENING)
    assert pp.predict(state, active) > 2 * pp.predict(state, idle)
    flat = pp.PushContext(local_hour=15, weekend=False, hour_profile=(1.0,) * 24)
    unknown = pp.PushContext(local_hour=15, weekend=False)
    assert pp.predict(state, flat) == pp.predict(state, unknown)
    # from 15:00 the best later hour is the first active one, 19:00
    assert pp.best_later(state, idle)[1] == 4


def test_a_state_stored_before_the_activity_feature_keeps_what_it_learned() -> None:
    names = [f for f in pp.FEATURES if f != "activity"]
    old = {"v": 2, "features": names, "mean": [0.1] * len(names), "precision": [9.0] * len(names)}
    state = pp.PushState.from_json(old)
    assert state.mean[pp.FEATURES.index("bias")] == 0.1
    assert state.mean[pp.FEATURES.index("activity")] == pp.ACTIVITY_PRIOR


def test_the_profile_survives_the_logged_context() -> None:
    ctx = pp.PushContext(local_hour=19, weekend=True, hour_profile=EVENING, score=0.4)
    assert context_of(asdict(ctx)) == ctx
    assert context_of(json.loads(json.dumps(asdict(ctx)))) == ctx  # as stored: a JSON list


def test_the_simulated_profile_is_counted_from_sessions_not_read_from_the_persona() -> None:
    (lark,) = select_personas(("lark",))
    weekdays, weekends = push_persona.past_sessions(lark, seed=0, user=0)
    assert sum(weekdays) > sum(weekends) > 0
    profile, _ = push_persona.profiles((weekdays, weekends))
    energy = [w / max(lark.rhythm_weekday) for w in lark.rhythm_weekday]
    assert profile != tuple(round(e, 3) for e in energy)  # a sample, with its noise
    assert max(range(24), key=lambda h: profile[h]) < 12  # still a morning person
    assert push_persona.past_sessions(lark, seed=0, user=0) == (weekdays, weekends)
