"""momentum: is the person on a roll or slowing down, measured against their own normal.

- baseline_completions_per_day: the 28-day rolling mean of done events per local day
  (days without any count as zero; today is included).
- stdev: the population standard deviation of those 28 daily counts.
- engagement_trend: a z-score: (mean done/day over the last 7 days − baseline) / stdev.
  Positive: above their usual pace; negative: below it. 0 when the pace never varies.
"""

from __future__ import annotations

from datetime import date, timedelta

from agents.stats import mean, pstdev
from agents.types import AgentContext, History, Manifest, ParamSpec

WINDOW_DAYS = 28
RECENT_DAYS = 7


def daily_counts(history: History, days: int = WINDOW_DAYS) -> list[int]:
    """Done events per local day for the last `days` days, oldest first (today last)."""
    return list(history.memo(f"momentum.daily.{days}", lambda: _daily(history, days)))


def _daily(history: History, days: int) -> list[int]:
    today = history.local(history.now).date()
    first = today - timedelta(days=days - 1)
    counts = [0] * days
    for at in history.local_done:
        day: date = at.date()
        if first <= day <= today:
            counts[(day - first).days] += 1
    return counts


def infer_baseline(history: History) -> float:
    """28-day rolling mean of done per day."""
    return round(mean(daily_counts(history)), 3)


def infer_stdev(history: History) -> float:
    """Spread of the daily counts behind the baseline."""
    return round(pstdev(daily_counts(history)), 3)


def infer_trend(history: History) -> float:
    """z of the last week's pace against the 28-day baseline."""
    counts = daily_counts(history)
    sd = pstdev(counts)
    if sd == 0:
        return 0.0
    return round((mean(counts[-RECENT_DAYS:]) - mean(counts)) / sd, 2)


def describe_z(z: float) -> str:
    """Words for a z-score, so the tip writer does not have to interpret numbers."""
    if z >= 2:
        return "far above their usual pace"
    if z >= 1:
        return "above their usual pace"
    if z <= -2:
        return "far below their usual pace"
    if z <= -1:
        return "below their usual pace"
    return "around their usual pace"


async def compute(ctx: AgentContext) -> str:
    """The snippet, in z-score language."""
    p = ctx.params
    z = float(p["engagement_trend"])
    base = float(p["baseline_completions_per_day"])
    if ctx.inferred_from == 0:
        return "Momentum: not enough history yet to know their usual pace."
    return (
        f"Momentum: the last 7 days are {z:+.1f} standard deviations from their 28-day "
        f"baseline of {base:.1f} done per day (σ {float(p['stdev']):.1f}) — "
        f"{describe_z(z)}."
    )


MANIFEST = Manifest(
    id="momentum",
    name="Momentum",
    version="1.0.0",
    description="Whether you are on a roll or slowing down, against your own usual pace.",
    consent_key="agent.momentum",
    ttl_s=3 * 3600,
    schedule="every 15 minutes",
    min_history=7,
    params=(
        ParamSpec(
            "engagement_trend",
            "Your last week against your usual pace (z-score)",
            0.0,
            infer_trend,
        ),
        ParamSpec(
            "baseline_completions_per_day",
            "Things you usually finish per day",
            0.0,
            infer_baseline,
        ),
        ParamSpec("stdev", "How much that varies day to day", 0.0, infer_stdev),
    ),
    compute=compute,
)
