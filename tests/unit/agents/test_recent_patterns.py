"""recent-patterns: lookback sized to 30 done events, weekly and daily cycles."""

from __future__ import annotations

from datetime import timedelta

from agents.inference import run_inference
from agents.recent_patterns import MANIFEST
from agents.types import AgentContext
from tests.unit.agents.histories import NOW, daily, done, history


def test_cold_start() -> None:
    result = run_inference(MANIFEST, daily([1] * 13))
    assert result.values == {
        "lookback_days": 28,
        "weekly_cycle": {"peak": None, "strength": 0.0},
        "daily_cycle": {"peak": None, "strength": 0.0},
    }


def test_lookback_grows_until_30_events() -> None:
    assert run_inference(MANIFEST, daily([5] * 7)).values["lookback_days"] == 7
    assert run_inference(MANIFEST, daily([1] * 60)).values["lookback_days"] == 35
    assert run_inference(MANIFEST, daily([1] * 14)).values["lookback_days"] == 90


def test_exactly_min_history() -> None:
    result = run_inference(MANIFEST, daily([1] * 14))
    assert result.evidence == 14
    assert "lookback_days" in result.inferred_keys


async def test_a_monday_morning_person() -> None:
    events = []
    for week in range(8):
        monday = NOW - timedelta(days=NOW.weekday() + 7 * week)
        events += [done(monday.replace(hour=9, minute=m)) for m in range(4)]
        events.append(done((monday + timedelta(days=2)).replace(hour=10)))
    h = history(events)
    result = run_inference(MANIFEST, h)
    assert result.values["lookback_days"] == 42  # 6 weeks hold 30 done events
    weekly = result.values["weekly_cycle"]
    assert weekly["peak"] == "Monday"
    assert weekly["strength"] > 0.5
    assert result.values["daily_cycle"] == {"peak": "morning", "strength": 3.0}
    snippet = await MANIFEST.compute(AgentContext(h, result.values, result.evidence))
    assert "on Mondays" in snippet
    assert "mostly in the morning" in snippet


async def test_no_hint_below_strength_one_half() -> None:
    h = daily([2] * 30, hour=8)
    spread = [*h.events, *daily([2] * 30, hour=14).events, *daily([2] * 30, hour=20).events]
    h = history(list(spread))
    result = run_inference(MANIFEST, h)
    assert 0 < result.values["daily_cycle"]["strength"] < 0.5
    snippet = await MANIFEST.compute(AgentContext(h, result.values, result.evidence))
    assert "no strong weekly or daily rhythm" in snippet
