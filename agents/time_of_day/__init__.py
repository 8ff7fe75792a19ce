"""time-of-day: when the person gets things done, and when to leave them alone.

- preferred_hour: the local hour with the most done events.
- quiet_start / quiet_end: the longest run of hours whose done count is below the baseline
  (the mean per hour), wrapping midnight; quiet_end is the first hour after the run.
- peak_hours: hours whose done count is in the top quartile of the hours with any done event
  (and above the median hour, so ties with a typical hour do not count).
- hour_profile / hour_profile_weekend: done events per local hour on weekdays / weekend days,
  relative to the busiest hour (0..1, a pseudo-count so no hour is 0); flat at cold start. The
  push learner weighs the hour it would interrupt by it (docs/adr/0040-relative-tip-floor.md).
- tz: cold-start only: the zone the sign-in provider gave us, never guessed from behaviour.
"""

from __future__ import annotations

from agents.stats import hour_counts, longest_circular_run, mean, percentile
from agents.types import (
    AgentContext,
    History,
    JsonValue,
    Manifest,
    ParamSpec,
    check_hour,
    check_hours,
    check_zone,
)

DEFAULT_PREFERRED_HOUR = 10
DEFAULT_QUIET = (22, 7)
DEFAULT_PEAK_HOURS = [9, 10, 11, 14, 15, 16]
FLAT_PROFILE = [1.0] * 24
"""Every hour as active as the busiest: what the push learner reads as "not known"."""


def _counts(history: History) -> list[int]:
    return hour_counts(history)


def infer_preferred_hour(history: History) -> int:
    """The busiest local hour (the earliest on ties)."""
    counts = _counts(history)
    return max(range(24), key=lambda h: (counts[h], -h))


def _quiet(history: History) -> tuple[int, int]:
    return history.memo("tod.quiet", lambda: _find_quiet(history))


def _find_quiet(history: History) -> tuple[int, int]:
    counts = _counts(history)
    baseline = mean(counts)
    start, length = longest_circular_run([c < baseline for c in counts])
    if length == 0:
        return DEFAULT_QUIET  # perfectly even activity: no quiet window to learn
    return start, (start + length) % 24


def infer_quiet_start(history: History) -> int:
    """First hour of the quiet window."""
    return _quiet(history)[0]


def infer_quiet_end(history: History) -> int:
    """First hour after the quiet window."""
    return _quiet(history)[1]


def infer_peak_hours(history: History) -> list[int]:
    """Hours in the top quartile of done counts (among hours with any).

    An hour tied with the typical (median) hour is not a peak, so a flat day does not make
    every hour "peak"; when nothing stands out, the busiest hours are the peaks.
    """
    counts = _counts(history)
    active = [c for c in counts if c > 0]
    threshold = percentile(active, 75)
    typical = percentile(active, 50)
    peaks = [h for h in range(24) if counts[h] >= threshold and counts[h] > typical]
    return peaks or [h for h in range(24) if counts[h] == max(active)]


PROFILE_PSEUDO_COUNT = 1.0
"""Added to every hour's count before the profile is taken: an hour never seen is not 0."""


def profile_of(counts: list[int]) -> list[float]:
    """Activity per local hour relative to the busiest hour (0..1, 24 values, 3 decimals),
    from done counts per hour; flat when there are none."""
    smoothed = [c + PROFILE_PSEUDO_COUNT for c in counts]
    top = max(smoothed)
    return [round(c / top, 3) for c in smoothed]


def _day_counts(history: History, weekend: bool) -> list[int]:
    counts = [0] * 24
    for at in history.local_done:
        if (at.weekday() >= 5) == weekend:
            counts[at.hour] += 1
    return counts


def infer_hour_profile(history: History) -> list[float]:
    """The person's activity per local hour on weekdays, relative to their busiest hour."""
    return profile_of(_day_counts(history, weekend=False))


def infer_hour_profile_weekend(history: History) -> list[float]:
    """The person's activity per local hour on Saturdays and Sundays, likewise."""
    return profile_of(_day_counts(history, weekend=True))


def check_profile(value: JsonValue) -> str | None:
    """24 numbers from 0 to 1, one per local hour."""
    if (
        not isinstance(value, list)
        or len(value) != 24
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
        or any(not 0 <= float(v) <= 1 for v in value)
    ):
        return "must be 24 numbers from 0 to 1, one per hour."
    return None


def _hh(hour: object) -> str:
    return f"{int(str(hour)) % 24:02d}:00"


async def compute(ctx: AgentContext) -> str:
    """The snippet: active and quiet windows, the best hour, the peak hours."""
    p = ctx.params
    peaks = ", ".join(_hh(h) for h in p["peak_hours"]) or "none yet"
    basis = (
        f"learned from {ctx.inferred_from} completions"
        if ctx.inferred_from
        else "defaults until there is more history"
    )
    return (
        f"Time of day ({p['tz']}): quiet {_hh(p['quiet_start'])}–{_hh(p['quiet_end'])}, "
        f"so do not suggest effortful things then; most things get done around "
        f"{_hh(p['preferred_hour'])}; peak hours {peaks} ({basis})."
    )


MANIFEST = Manifest(
    id="time-of-day",
    name="Time of day",
    version="1.1.0",
    description="When you get things done and when you are usually quiet.",
    consent_key="agent.time-of-day",
    ttl_s=6 * 3600,
    schedule="every 15 minutes",
    min_history=20,
    params=(
        ParamSpec(
            "preferred_hour",
            "The hour you complete the most",
            DEFAULT_PREFERRED_HOUR,
            infer_preferred_hour,
            check_hour,
        ),
        ParamSpec(
            "quiet_start", "Your quiet time starts", DEFAULT_QUIET[0], infer_quiet_start, check_hour
        ),
        ParamSpec(
            "quiet_end", "Your quiet time ends", DEFAULT_QUIET[1], infer_quiet_end, check_hour
        ),
        ParamSpec(
            "peak_hours",
            "Your most productive hours",
            DEFAULT_PEAK_HOURS,
            infer_peak_hours,
            check_hours,
        ),
        ParamSpec(
            "hour_profile",
            "How active you are at each hour on weekdays",
            FLAT_PROFILE,
            infer_hour_profile,
            check_profile,
        ),
        ParamSpec(
            "hour_profile_weekend",
            "How active you are at each hour at weekends",
            FLAT_PROFILE,
            infer_hour_profile_weekend,
            check_profile,
        ),
        ParamSpec("tz", "Your time zone (from sign-in)", lambda h: h.timezone, None, check_zone),
    ),
    compute=compute,
)
