"""momentum: 28-day baseline, spread, and the last week as a z-score."""

from __future__ import annotations

from agents.inference import run_inference
from agents.momentum import MANIFEST, describe_z
from agents.types import AgentContext
from tests.unit.agents.histories import daily


def test_cold_start() -> None:
    result = run_inference(MANIFEST, daily([1] * 6))
    assert result.values == {
        "engagement_trend": 0.0,
        "baseline_completions_per_day": 0.0,
        "stdev": 0.0,
    }


def test_exactly_min_history_and_a_steady_pace() -> None:
    result = run_inference(MANIFEST, daily([1] * 7))
    assert result.evidence == MANIFEST.min_history == 7
    assert result.values["baseline_completions_per_day"] == 0.25  # 7 done over 28 days
    steady = run_inference(MANIFEST, daily([2] * 28))
    assert steady.values == {
        "engagement_trend": 0.0,
        "baseline_completions_per_day": 2.0,
        "stdev": 0.0,
    }


async def test_a_rising_week_is_a_positive_z_score() -> None:
    h = daily([4] * 7 + [1] * 21)  # index 0 = today: the last 7 days at 4/day
    result = run_inference(MANIFEST, h)
    assert result.values["baseline_completions_per_day"] == 1.75
    assert result.values["stdev"] == 1.299
    assert result.values["engagement_trend"] == 1.73  # (4 − 1.75) / 1.299
    snippet = await MANIFEST.compute(AgentContext(h, result.values, result.evidence))
    assert "+1.7 standard deviations" in snippet
    assert "above their usual pace" in snippet


def test_older_than_28_days_does_not_count() -> None:
    result = run_inference(MANIFEST, daily([0] * 28 + [5] * 10))
    assert result.values["baseline_completions_per_day"] == 0.0


def test_z_words() -> None:
    assert describe_z(-2.5) == "far below their usual pace"
    assert describe_z(0.3) == "around their usual pace"
