"""The per-day rollup the overview reads: sums of the people-day rollup and the distinct active
people of the day, week and month ending on each day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Sum

from backend.admin.tables import AdminDay, AdminUserDay
from backend.db import write_transaction

WINDOW_DAYS = 30
"""A day's changes reach the month-long windows of the 30 days that end on or after it."""


async def _distinct(start: date, end: date) -> int:
    return int(
        await AdminUserDay.count(distinct=[AdminUserDay.user]).where(
            (AdminUserDay.day >= start) & (AdminUserDay.day <= end)
        )
    )


async def _regulars(end: date) -> int:
    rows = await AdminUserDay.raw(
        'SELECT COUNT(*) AS n FROM (SELECT "user" FROM admin_user_day '
        'WHERE day >= {} AND day <= {} GROUP BY "user" HAVING COUNT(*) >= 3) AS regular',
        end - timedelta(days=6),
        end,
    )
    return int(rows[0]["n"]) if rows else 0


async def _day(day: date) -> AdminDay:
    sums: list[dict[str, Any]] = await AdminUserDay.select(
        Sum(AdminUserDay.served, alias="served"),
        Sum(AdminUserDay.reactions, alias="reactions"),
        Sum(AdminUserDay.done, alias="done"),
        Sum(AdminUserDay.snoozed, alias="snoozed"),
        Sum(AdminUserDay.dismissed, alias="dismissed"),
        Sum(AdminUserDay.reward_sum, alias="reward_sum"),
        Sum(AdminUserDay.rewarded, alias="rewarded"),
    ).where(AdminUserDay.day == day)
    s = sums[0] if sums else {}
    return AdminDay(
        day=day,
        served=int(s.get("served") or 0),
        reactions=int(s.get("reactions") or 0),
        done=int(s.get("done") or 0),
        snoozed=int(s.get("snoozed") or 0),
        dismissed=int(s.get("dismissed") or 0),
        reward_sum=float(s.get("reward_sum") or 0.0),
        rewarded=int(s.get("rewarded") or 0),
        active=await _distinct(day, day),
        active_7d=await _distinct(day - timedelta(days=6), day),
        active_30d=await _distinct(day - timedelta(days=29), day),
        regulars_7d=await _regulars(day),
    )


def affected(changed: Iterable[date], today: date) -> set[date]:
    """The days whose figures a change on `changed` days alters (their month-long windows)."""
    out: set[date] = set()
    for day in changed:
        for offset in range(WINDOW_DAYS):
            later = day + timedelta(days=offset)
            if later > today:
                break
            out.add(later)
    return out


async def store_days(days: Iterable[date]) -> int:
    """Recompute the per-day rollup of these days; returns how many."""
    rows = [await _day(d) for d in sorted(set(days))]
    if rows:
        async with write_transaction():
            await AdminDay.delete().where(AdminDay.day.is_in([r.day for r in rows]))
            await AdminDay.insert(*rows)
    return len(rows)
