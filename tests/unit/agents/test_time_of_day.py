"""time-of-day: quiet window, preferred hour, peak hours, tz from sign-in only."""

from __future__ import annotations

from datetime import timedelta

from agents.inference import run_inference
from agents.time_of_day import MANIFEST
from tests.unit.agents.histories import NOW, awake_person, done, history


def test_cold_start_gives_defaults_and_tz_from_sign_in() -> None:
    few = history([done(NOW - timedelta(hours=i)) for i in range(5)], tz="Europe/Paris")
    result = run_inference(MANIFEST, few)
    assert result.values == {
        "preferred_hour": 10,
        "quiet_start": 22,
        "quiet_end": 7,
        "peak_hours": [9, 10, 11, 14, 15, 16],
        "hour_profile": [1.0] * 24,
        "hour_profile_weekend": [1.0] * 24,
        "tz": "Europe/Paris",
    }
    assert result.inferred_keys == frozenset()
    assert result.evidence == 0


def test_quiet_window_of_a_person_awake_from_7_to_23() -> None:
    result = run_inference(MANIFEST, awake_person())
    assert result.values["quiet_start"] == 23
    assert result.values["quiet_end"] == 7
    assert result.evidence == 14 * 16


def test_preferred_and_peak_hours() -> None:
    base = awake_person(days=3)
    extra = [done(NOW.replace(hour=9, minute=40) - timedelta(days=d)) for d in range(1, 6)]
    extra += [done(NOW.replace(hour=15, minute=40) - timedelta(days=d)) for d in range(1, 4)]
    result = run_inference(MANIFEST, history([*base.events, *extra]))
    assert result.values["preferred_hour"] == 9
    # Top quartile of the 16 active hours: 09 (8 done) and 15 (6); every other hour has 3.
    assert result.values["peak_hours"] == [9, 15]


def test_exactly_min_history_is_inferred() -> None:
    events = [done(NOW.replace(hour=8 + i % 10) - timedelta(days=i)) for i in range(20)]
    assert len(events) == MANIFEST.min_history
    result = run_inference(MANIFEST, history(events))
    assert "quiet_start" in result.inferred_keys
    assert result.evidence == 20
    one_less = run_inference(MANIFEST, history(events[:-1]))
    assert one_less.inferred_keys == frozenset()


def test_hours_are_local_to_the_person() -> None:
    # 07:00–22:00 in Tokyo is 22:00–13:00 UTC: the window must be computed in local time.
    tokyo = awake_person()
    shifted = history([done(e.at - timedelta(hours=9)) for e in tokyo.events], tz="Asia/Tokyo")
    result = run_inference(MANIFEST, shifted)
    assert (result.values["quiet_start"], result.values["quiet_end"]) == (23, 7)


async def test_snippet_names_the_windows() -> None:
    from agents.types import AgentContext

    h = awake_person()
    result = run_inference(MANIFEST, h)
    snippet = await MANIFEST.compute(AgentContext(h, result.values, result.evidence))
    assert "quiet 23:00–07:00" in snippet
    assert "learned from 224 completions" in snippet
