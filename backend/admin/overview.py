"""The console's overview: KPIs with their change against the previous period, tips served and
reactions per day, and the activation funnel — all from the rollups (never the decision log)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend.admin.tables import AdminDay, AdminUserTotals

PERIOD_DAYS = {"LAST_24H": 1, "LAST_7D": 7, "LAST_30D": 30, "LAST_90D": 90}
"""A period is the last N UTC days, today included (the rollups are daily)."""


@dataclass(frozen=True)
class Kpi:
    """One figure with the same figure over the previous period."""

    key: str
    label: str
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None: nothing to compare with)."""
        if self.value is None or not self.previous:
            return None
        return round((self.value - self.previous) / self.previous, 4)


@dataclass(frozen=True)
class DayCounts:
    """Tips served and reactions (by action) on one day."""

    day: date
    served: int
    done: int
    snoozed: int
    dismissed: int
    reward_sum: float
    rewarded: int

    @property
    def reactions(self) -> int:
        """Every answer of the day."""
        return self.done + self.snoozed + self.dismissed

    @property
    def mean_reward(self) -> float | None:
        """Mean reward of the day's answered tips."""
        return round(self.reward_sum / self.rewarded, 4) if self.rewarded else None


@dataclass(frozen=True)
class FunnelStep:
    """How many people got this far."""

    key: str
    label: str
    people: int


@dataclass(frozen=True)
class Overview:
    """What the overview page shows for one period."""

    period: str
    start: date
    end: date
    kpis: list[Kpi]
    days: list[DayCounts]
    funnel: list[FunnelStep]


def day_counts(day: date, r: Mapping[str, Any]) -> DayCounts:
    """A rollup row (per day, or per person and day) as counts; zeros when there is none."""
    return DayCounts(
        day=day,
        served=int(r.get("served") or 0),
        done=int(r.get("done") or 0),
        snoozed=int(r.get("snoozed") or 0),
        dismissed=int(r.get("dismissed") or 0),
        reward_sum=float(r.get("reward_sum") or 0.0),
        rewarded=int(r.get("rewarded") or 0),
    )


async def _day_rows(start: date, end: date) -> dict[date, dict[str, Any]]:
    rows = await AdminDay.select().where((AdminDay.day >= start) & (AdminDay.day <= end))
    return {_as_date(r["day"]): r for r in rows}


def _days(rows: dict[date, dict[str, Any]], start: date, end: date) -> list[DayCounts]:
    out = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        out.append(day_counts(day, rows.get(day, {})))
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _sum(days: list[DayCounts]) -> dict[str, float | None]:
    served = sum(d.served for d in days)
    reactions = sum(d.reactions for d in days)
    rewarded = sum(d.rewarded for d in days)
    return {
        "served": served,
        "reactions": reactions,
        "reaction_rate": round(reactions / served, 4) if served else None,
        "done_rate": round(sum(d.done for d in days) / reactions, 4) if reactions else None,
        "mean_reward": round(sum(d.reward_sum for d in days) / rewarded, 4) if rewarded else None,
    }


async def _funnel(end_row: dict[str, Any]) -> list[FunnelStep]:
    return [
        FunnelStep("signed_in", "Signed in", int(await AdminUserTotals.count())),
        FunnelStep(
            "connected",
            "Connected a source",
            int(await AdminUserTotals.count().where(AdminUserTotals.sources > 0)),
        ),
        FunnelStep(
            "first_tip",
            "Got a first tip",
            int(await AdminUserTotals.count().where(AdminUserTotals.served > 0)),
        ),
        FunnelStep(
            "first_reaction",
            "Answered a tip",
            int(await AdminUserTotals.count().where(AdminUserTotals.reactions > 0)),
        ),
        FunnelStep(
            "regular", "Active on 3 of the last 7 days", int(end_row.get("regulars_7d") or 0)
        ),
    ]


async def overview(period: str, today: date | None = None) -> Overview:
    """The overview for LAST_24H, LAST_7D, LAST_30D or LAST_90D (rollups only)."""
    span = PERIOD_DAYS[period]
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=span - 1)
    previous_end = start - timedelta(days=1)
    previous_start = previous_end - timedelta(days=span - 1)
    # One read covers both periods and the active-people windows ending on both ends.
    rows = await _day_rows(min(previous_start, end - timedelta(days=30)), end)
    days = _days(rows, start, end)
    now, then = _sum(days), _sum(_days(rows, previous_start, previous_end))
    end_row = rows.get(end, {})

    def active(key: str, label: str, column: str, back: int) -> Kpi:
        prior = rows.get(end - timedelta(days=back), {})
        return Kpi(key, label, float(end_row.get(column) or 0), float(prior.get(column) or 0))

    connected = int(await AdminUserTotals.count().where(AdminUserTotals.sources > 0))
    kpis = [
        active("dau", "DAU", "active", 1),
        active("wau", "WAU", "active_7d", 7),
        active("mau", "MAU", "active_30d", 30),
        Kpi("served", "Tips served", now["served"], then["served"]),
        Kpi("reactions", "Reactions", now["reactions"], then["reactions"]),
        Kpi("reaction_rate", "Reaction rate", now["reaction_rate"], then["reaction_rate"]),
        Kpi("done_rate", "Done rate", now["done_rate"], then["done_rate"]),
        Kpi("mean_reward", "Mean reward", now["mean_reward"], then["mean_reward"]),
        Kpi("connected", "People with a connected source", connected, None),
    ]
    return Overview(period, start, end, kpis, days, await _funnel(end_row))
