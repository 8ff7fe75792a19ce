"""Keeping the admin rollups current: incremental (only days whose tips changed since the last
run) and idempotent (a changed day is summarised again from the log, never added to), so a
rerun, a crash half-way or two workers at once leave the same numbers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count, Max, Min, Sum

from backend.admin.days import affected, store_days
from backend.admin.tables import AdminRollupState, AdminUserDay, AdminUserTotals
from backend.db import write_transaction
from backend.identity.service import deleted_people, live_user_zones
from backend.integrations.service import sources_by_person
from backend.recommender.activity import DayActivity, activity_on, days_changed_since

log = logging.getLogger("oo.admin.rollups")

NAME = "user_day"
OVERLAP = timedelta(seconds=30)
"""Each run re-reads a little before its watermark: a transaction that committed late (a
reaction written just before the last run started) is still counted. Re-reading is free of
double counts, since a day is always summarised whole."""

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
INSERT_BATCH = 1000
FULL_REDO_DAYS = 120
"""After an account deletion, the per-day figures of this many days are recomputed."""


async def _state() -> tuple[datetime, int]:
    row = await AdminRollupState.select().where(AdminRollupState.name == NAME).first()
    if row is None:
        return EPOCH, 0
    return row["watermark"] or EPOCH, int(row["deleted_people"] or 0)


async def _set_state(at: datetime, deleted: int) -> None:
    async with write_transaction():
        await AdminRollupState.delete().where(AdminRollupState.name == NAME)
        await AdminRollupState(name=NAME, watermark=at, deleted_people=deleted).save()


async def _live_people(user_ids: Iterable[str]) -> set[str]:
    return set(await live_user_zones(sorted(set(user_ids))))


async def _store_day(day: date, found: list[DayActivity]) -> set[str]:
    live = await _live_people(r.user_id for r in found)
    kept = [r for r in found if r.user_id in live]
    async with write_transaction():
        before = await AdminUserDay.select(AdminUserDay.user).where(AdminUserDay.day == day)
        await AdminUserDay.delete().where(AdminUserDay.day == day)
        rows = [
            AdminUserDay(
                user=r.user_id,
                day=day,
                served=r.served,
                reactions=r.reactions,
                done=r.done,
                snoozed=r.snoozed,
                dismissed=r.dismissed,
                reward_sum=round(r.reward_sum, 6),
                rewarded=r.rewarded,
                first_at=r.first_at,
                last_at=r.last_at,
            )
            for r in kept
        ]
        for start in range(0, len(rows), INSERT_BATCH):  # within PostgreSQL's parameter limit
            await AdminUserDay.insert(*rows[start : start + INSERT_BATCH])
    return {r.user_id for r in kept} | {str(b["user"]) for b in before}


async def _store_totals(user_ids: set[str], sources: dict[str, list[str]]) -> None:
    ids = sorted(user_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sums: list[dict[str, Any]] = (
            await AdminUserDay.select(
                AdminUserDay.user,
                Sum(AdminUserDay.served, alias="served"),
                Sum(AdminUserDay.reactions, alias="reactions"),
                Sum(AdminUserDay.reward_sum, alias="reward_sum"),
                Sum(AdminUserDay.rewarded, alias="rewarded"),
                Count(alias="active_days"),
                Min(AdminUserDay.first_at, alias="first_at"),
                Max(AdminUserDay.last_at, alias="last_at"),
            )
            .where(AdminUserDay.user.is_in(chunk))
            .group_by(AdminUserDay.user)
        )
        by_user = {str(s["user"]): s for s in sums}
        rows = [_totals(by_user.get(u, {"user": u}), len(sources.get(u, []))) for u in chunk]
        async with write_transaction():
            await AdminUserTotals.delete().where(AdminUserTotals.user.is_in(chunk))
            await AdminUserTotals.insert(*rows)


def _totals(s: dict[str, Any], sources: int) -> AdminUserTotals:
    rewarded = int(s.get("rewarded") or 0)
    reward_sum = float(s.get("reward_sum") or 0.0)
    return AdminUserTotals(
        user=s["user"],
        served=int(s.get("served") or 0),
        reactions=int(s.get("reactions") or 0),
        reward_sum=reward_sum,
        rewarded=rewarded,
        mean_reward=round(reward_sum / rewarded, 6) if rewarded else None,
        active_days=int(s.get("active_days") or 0),
        first_at=s.get("first_at"),
        last_at=s.get("last_at"),
        sources=sources,
    )


async def _everyone_listed(touched: set[str], sources: dict[str, list[str]]) -> set[str]:
    """Give every live person a totals row and refresh everyone's source count; returns the
    people whose totals must be summed again (touched, or new here)."""
    live = await live_user_zones()
    known = {
        str(r["user"]): int(r["sources"])
        for r in await AdminUserTotals.select(AdminUserTotals.user, AdminUserTotals.sources)
    }
    gone = set(known) - set(live)
    if gone:  # deleted people leave every aggregate
        async with write_transaction():
            await AdminUserTotals.delete().where(AdminUserTotals.user.is_in(sorted(gone)))
            await AdminUserDay.delete().where(AdminUserDay.user.is_in(sorted(gone)))
    fresh = set(live) - set(known)
    changed = {
        u: len(sources.get(u, []))
        for u in live
        if u in known and known[u] != len(sources.get(u, []))
    }
    if changed:
        async with write_transaction():
            for user_id, count in changed.items():
                await AdminUserTotals.update({AdminUserTotals.sources: count}).where(
                    AdminUserTotals.user == user_id
                )
    return (touched | fresh) - gone


async def refresh(now: datetime | None = None) -> dict[str, int]:
    """Summarise every day that changed since the last run; returns what it did."""
    started = now or datetime.now(UTC)
    watermark, deleted_before = await _state()
    deleted = await deleted_people()
    days = sorted(await days_changed_since(watermark - OVERLAP))
    touched: set[str] = set()
    for day in days:
        touched |= await _store_day(day, await activity_on(day))
    sources = await sources_by_person()
    touched = await _everyone_listed(touched, sources)
    await _store_totals(touched, sources)
    today = started.date()
    redo = affected(days, today)
    if deleted != deleted_before:  # someone left: their share leaves every day's figures
        redo |= {today - timedelta(days=n) for n in range(FULL_REDO_DAYS)}
    recomputed = await store_days(redo)
    await _set_state(started, deleted)
    if days or recomputed:
        log.info(
            "admin rollups: %d days, %d people, %d day figures", len(days), len(touched), recomputed
        )
    return {"days": len(days), "people": len(touched), "day_figures": recomputed}
