"""recent-patterns: weekly and daily rhythms in the recent past.

- lookback_days: the shortest window (7, 14, … 84, or at most 90 days) holding ≥ 30 done events.
- weekly_cycle: done per weekday (a rate: count / occurrences of that weekday in the window);
  strength = peak / mean − 1.
- daily_cycle: done per part of day (night 0–6, morning 6–12, afternoon 12–18, evening 18–24);
  strength = peak / mean − 1.
A cycle is worth a hint when its strength is above 0.5 (the peak is 1.5× the mean).
"""

from __future__ import annotations

from datetime import timedelta

from agents.stats import peak_to_mean
from agents.types import AgentContext, History, Manifest, ParamSpec

TARGET_EVENTS = 30
MAX_LOOKBACK = 90
HINT_STRENGTH = 0.5
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PARTS = ("night", "morning", "afternoon", "evening")
NO_CYCLE: dict[str, object] = {"peak": None, "strength": 0.0}


def infer_lookback(history: History) -> int:
    """Days of history to read so the cycles rest on at least 30 done events."""
    return int(history.memo("patterns.lookback", lambda: _lookback(history)))


_WEEK = timedelta(days=7)


def _lookback(history: History) -> int:
    # One pass: each done event counts in every window of whole weeks that reaches back to
    # it (the week count is exact integer arithmetic on the event's age, as `done_since`'s
    # `at >= now - days` is); windows from 7 to 84 days.
    weeks = (MAX_LOOKBACK - 1) // 7
    newest_window = [0] * (weeks + 1)  # events whose shortest window is this many weeks
    for event in history.done:
        age = history.now - event.at
        needed = max(1, -(-age // _WEEK))  # ceil(age / week), at least one week
        if needed <= weeks:
            newest_window[needed] += 1
    held = 0
    for week in range(1, weeks + 1):
        held += newest_window[week]
        if held >= TARGET_EVENTS:
            return week * 7
    return MAX_LOOKBACK


def infer_weekly(history: History) -> dict[str, object]:
    """Peak weekday and its strength."""
    days = infer_lookback(history)
    today = history.local(history.now).date()
    occurrences = [0] * 7
    for back in range(days):
        occurrences[(today - timedelta(days=back)).weekday()] += 1
    first = today - timedelta(days=days - 1)
    counts = [0] * 7
    for at in history.local_done:
        # Whole local days, matching `occurrences`: a window cut mid-day would count that
        # weekday twice and invent a cycle.
        day = at.date()
        if first <= day <= today:
            counts[day.weekday()] += 1
    rates = [c / o if o else 0.0 for c, o in zip(counts, occurrences, strict=True)]
    peak, strength = peak_to_mean(rates)
    if strength == 0:
        return dict(NO_CYCLE)
    return {"peak": WEEKDAYS[peak], "strength": round(strength, 2)}


def infer_daily(history: History) -> dict[str, object]:
    """Peak part of the day and its strength."""
    counts = [0] * 4
    start = history.now - timedelta(days=infer_lookback(history))
    for event, at in zip(history.done, history.local_done, strict=True):
        if event.at >= start:
            counts[at.hour // 6] += 1
    peak, strength = peak_to_mean([float(c) for c in counts])
    if strength == 0:
        return dict(NO_CYCLE)
    return {"peak": PARTS[peak], "strength": round(strength, 2)}


def _strength(cycle: object) -> float:
    if isinstance(cycle, dict):
        try:
            return float(cycle.get("strength") or 0)
        except (TypeError, ValueError):
            return 0.0
    return 0.0


async def compute(ctx: AgentContext) -> str:
    """The snippet: only the cycles strong enough to act on."""
    p = ctx.params
    hints: list[str] = []
    weekly, daily = p["weekly_cycle"], p["daily_cycle"]
    if _strength(weekly) > HINT_STRENGTH:
        hints.append(f"they get the most done on {weekly['peak']}s")
    if _strength(daily) > HINT_STRENGTH:
        hints.append(f"they finish things mostly in the {daily['peak']}")
    window = f"over the last {p['lookback_days']} days"
    if not hints:
        return f"Recent patterns: no strong weekly or daily rhythm {window}."
    return f"Recent patterns {window}: " + "; ".join(hints) + "."


MANIFEST = Manifest(
    id="recent-patterns",
    name="Recent patterns",
    version="1.0.0",
    description="Weekly and daily rhythms in what you have done lately.",
    consent_key="agent.recent-patterns",
    ttl_s=12 * 3600,
    schedule="every 15 minutes",
    min_history=14,
    params=(
        ParamSpec("lookback_days", "Days of history looked at", 28, infer_lookback),
        ParamSpec("weekly_cycle", "Your strongest weekday", dict(NO_CYCLE), infer_weekly),
        ParamSpec("daily_cycle", "Your strongest part of the day", dict(NO_CYCLE), infer_daily),
    ),
    compute=compute,
)
