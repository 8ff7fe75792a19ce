"""Reward analytics for the console: reactions and mean reward over time and per slice, with
95 % confidence intervals, shadow agreement, and the promotions that happened in the window.

The recommender groups its log into (time bucket, slice key) cells with sums and sums of squares
(backend/recommender/reward_slices.py); this module turns cells into series and groups. The
interval is the normal approximation: mean ± 1.96 · s / √n with the sample standard deviation s
(none below two rewarded decisions).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.admin.people import is_uuid
from backend.admin.reward_rollup import rollup_cells
from backend.audit import AdminAudit
from backend.contracts.errors import Refused
from backend.contracts.json import json_object
from backend.recommender.reward_slices import (
    PERIODS,
    SLICES,
    Agreement,
    Cell,
    SliceFilter,
    reward_cells,
    shadow_agreement,
)

Z95 = 1.96
MAX_WINDOW = {"DAY": timedelta(days=92), "HOUR": timedelta(days=14)}
DEFAULT_WINDOW = timedelta(days=7)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLICE_LABELS = {
    "TIME": "Everything",
    "POLICY": "Policy",
    "HOUR_OF_DAY": "Hour of day (UTC)",
    "WEEKDAY": "Weekday (UTC)",
    "PRIORITY": "Priority",
    "KIND": "Kind",
    "SOURCE": "Source",
    "MODEL": "Model",
    "PROMPT_VERSION": "Prompt version",
    "COHORT": "Cohort (sign-up week)",
}
NUMERIC_SLICES = {"HOUR_OF_DAY", "WEEKDAY", "PRIORITY"}


class AnalyticsError(Refused):
    """A refused analytics request (unknown slice or period, bad window)."""


@dataclass(frozen=True)
class Stats:
    """Counts and the mean reward with its 95 % interval, for one group or one time bucket."""

    decisions: int
    reactions: int
    done: int
    snoozed: int
    dismissed: int
    rewarded: int
    mean_reward: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def reaction_rate(self) -> float | None:
        """Share of decisions that got a reaction."""
        return self.reactions / self.decisions if self.decisions else None


def stats_of(cells: Iterable[Cell]) -> Stats:
    """Sum cells and compute the mean reward and its interval."""
    cells = list(cells)
    n = sum(c.rewarded for c in cells)
    total = sum(c.reward_sum for c in cells)
    squares = sum(c.reward_sq for c in cells)
    mean = total / n if n else None
    low = high = None
    if mean is not None and n >= 2:
        variance = max(0.0, (squares - n * mean * mean) / (n - 1))
        half = Z95 * math.sqrt(variance / n)
        low, high = mean - half, mean + half
    return Stats(
        decisions=sum(c.decisions for c in cells),
        reactions=sum(c.reactions for c in cells),
        done=sum(c.done for c in cells),
        snoozed=sum(c.snoozed for c in cells),
        dismissed=sum(c.dismissed for c in cells),
        rewarded=n,
        mean_reward=mean,
        ci_low=low,
        ci_high=high,
    )


@dataclass(frozen=True)
class Group:
    """One slice value (e.g. the policy "linucb 2") over the whole window, and per bucket."""

    key: str
    label: str
    stats: Stats
    series: list[tuple[str, Stats]]


@dataclass(frozen=True)
class Promotion:
    """A policy promoted inside the window (from the audit log)."""

    at: datetime
    policy_id: str
    previous: str | None
    reason: str


@dataclass(frozen=True)
class Analytics:
    """The answer: the window, its buckets, the total, each group, agreement, promotions."""

    slice_by: str
    period: str
    since: datetime
    until: datetime
    buckets: list[str]
    total: Stats
    groups: list[Group]
    agreement: list[Agreement]
    promotions: list[Promotion]


def label_of(slice_by: str, key: str | None) -> str:
    """How a slice key reads on the page."""
    if key is None or key == "":
        return "(none)"
    if slice_by == "WEEKDAY" and key.isdigit():
        return WEEKDAYS[int(key) % 7]
    if slice_by == "HOUR_OF_DAY" and key.isdigit():
        return f"{int(key):02d}:00"
    if slice_by == "COHORT":
        return f"week of {key}"
    return key


def _order(slice_by: str, key: str) -> tuple[int, float, str]:
    if slice_by in NUMERIC_SLICES:
        try:
            return (0, float(key), key)
        except ValueError:
            return (1, 0.0, key)
    return (0, 0.0, key)


def window(
    period: str, since: datetime | None, until: datetime | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The window asked for, or the last 7 days; refused when inverted or too long."""
    if period not in PERIODS:
        raise AnalyticsError("INVALID_PERIOD", f"period is one of {', '.join(PERIODS)}.", "period")
    until = until or now or datetime.now(UTC)
    since = since or until - DEFAULT_WINDOW
    if since.tzinfo is None or until.tzinfo is None:
        raise AnalyticsError("INVALID_FILTER", "Times need a time zone (e.g. Z).", "from")
    if since >= until:
        raise AnalyticsError("INVALID_FILTER", "from must be before to.", "from")
    if until - since > MAX_WINDOW[period]:
        days = MAX_WINDOW[period].days
        raise AnalyticsError(
            "WINDOW_TOO_LONG", f"A {period.lower()}ly window is at most {days} days.", "from"
        )
    return since, until


def buckets_of(period: str, since: datetime, until: datetime) -> list[str]:
    """Every bucket key of the window, in the database's format (empty buckets included)."""
    step = timedelta(days=1) if period == "DAY" else timedelta(hours=1)
    fmt = "%Y-%m-%d" if period == "DAY" else "%Y-%m-%dT%H"
    at = since.astimezone(UTC)
    at = at.replace(minute=0, second=0, microsecond=0)
    if period == "DAY":
        at = at.replace(hour=0)
    keys = []
    while at < until:
        keys.append(at.strftime(fmt))
        at += step
    return keys


def _floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil(at: datetime) -> datetime:
    floor = _floor(at)
    return floor if floor == at else floor + timedelta(hours=1)


async def _from_rollup(slice_by: str, period: str, f: SliceFilter) -> list[Cell]:
    """The rollup's cells keyed like the log's (hour of day and weekday from the hour)."""
    found = await rollup_cells(slice_by, period, f.since, f.until, f.policy_id, f.kind, f.source)
    if slice_by == "TIME":
        return [replace(c, key="all") for c in found]
    if slice_by not in ("HOUR_OF_DAY", "WEEKDAY"):
        return found
    fmt = "%Y-%m-%d" if period == "DAY" else "%Y-%m-%dT%H"
    cells = []
    for c in found:
        hour = datetime.strptime(c.bucket, "%Y-%m-%dT%H")
        key = hour.hour if slice_by == "HOUR_OF_DAY" else hour.weekday()
        cells.append(replace(c, bucket=hour.strftime(fmt), key=str(key)))
    return cells


async def promotions_between(since: datetime, until: datetime) -> list[Promotion]:
    """Policies promoted in [since, until), oldest first."""
    rows = (
        await AdminAudit.select()
        .where(
            (AdminAudit.action == "policy.promote")
            & (AdminAudit.created_at >= since)
            & (AdminAudit.created_at < until)
        )
        .order_by(AdminAudit.created_at)
        .limit(50)
        .output(load_json=True)
    )
    found = []
    for r in rows:
        detail: dict[str, Any] = json_object(r["detail"])
        previous = detail.get("from")
        found.append(
            Promotion(
                at=r["created_at"],
                policy_id=str(r["target"]),
                previous=str(previous) if previous else None,
                reason=str(detail.get("reason") or ""),
            )
        )
    return found


async def analytics(
    slice_by: str,
    period: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    user_id: str | None = None,
    policy_id: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    use_rollup: bool | None = None,
) -> Analytics:
    """Reward analytics of the window (default: the last 7 days), sliced, optionally narrowed
    to a person, a policy, a kind or a source. Read from the hourly rollup (the window widened
    to whole hours), except for one person's figures, read from the log itself
    (`use_rollup=False` reads the log for everything)."""
    if slice_by not in SLICES:
        raise AnalyticsError("INVALID_SLICE", f"groupBy is one of {', '.join(SLICES)}.", "groupBy")
    if user_id is not None and not is_uuid(user_id):
        raise AnalyticsError("INVALID_FILTER", "person is a person's id.", "person")
    since, until = window(period, since, until)
    from_log = user_id is not None or use_rollup is False  # no person in the rollup
    if not from_log:  # the rollup holds whole hours
        since, until = _floor(since), _ceil(until)
    f = SliceFilter(since, until, user_id, policy_id, kind, source)
    cells, agreement, promotions = await asyncio.gather(
        reward_cells(slice_by, period, f) if from_log else _from_rollup(slice_by, period, f),
        shadow_agreement(f),
        promotions_between(since, until),
    )
    buckets = buckets_of(period, since, until)
    by_key: dict[str, list[Cell]] = {}
    for c in cells:
        by_key.setdefault(c.key or "", []).append(c)
    groups = []
    for key in sorted(by_key, key=lambda k: _order(slice_by, k)):
        mine = by_key[key]
        per_bucket: dict[str, list[Cell]] = {}
        for c in mine:
            per_bucket.setdefault(c.bucket, []).append(c)
        groups.append(
            Group(
                key=key,
                label=label_of(slice_by, key or None),
                stats=stats_of(mine),
                series=[(b, stats_of(per_bucket.get(b, []))) for b in buckets],
            )
        )
    return Analytics(
        slice_by=slice_by,
        period=period,
        since=since,
        until=until,
        buckets=buckets,
        total=stats_of(cells),
        groups=groups,
        agreement=agreement,
        promotions=promotions,
    )
