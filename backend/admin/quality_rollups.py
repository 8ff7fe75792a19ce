"""Keeping the data-quality rollups current, the way backend/admin/rollups.py keeps its own:
incremental (days whose tips changed since the last run, plus the last two days, whose
completions have no write time to watch) and idempotent (a day is summarised whole from the log
and replaces what was stored), so reruns and overlapping runs leave the same numbers."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from backend.admin.quality_tables import AdminFeatureDay, AdminSignalDay, AdminWriterDay
from backend.admin.rollups import EPOCH, INSERT_BATCH, OVERLAP
from backend.admin.tables import AdminRollupState
from backend.db import write_transaction
from backend.identity.service import deleted_people, live_user_zones
from backend.integrations.quality import completions_on
from backend.recommender.activity import days_changed_since
from backend.recommender.feature_gaps import DayQuality, day_quality_on, feature_names

log = logging.getLogger("oo.admin.quality")

NAME = "quality"
RECENT_DAYS = 2
REDO_DAYS = 31
"""After an account deletion, this many days are summarised again (the log keeps 30)."""

SIGNALS = 4
"""A tip served, a reaction, decisions with every feature, completions from connected apps."""


def coverage(served: int, reacted: int, incomplete: int, completions: int) -> float:
    """The share of the day's four signals present."""
    present = (served > 0) + (reacted > 0) + (served > 0 and incomplete == 0) + (completions > 0)
    return round(present / SIGNALS, 4)


async def _state() -> tuple[datetime, int]:
    row = await AdminRollupState.select().where(AdminRollupState.name == NAME).first()
    if row is None:
        return EPOCH, 0
    return row["watermark"] or EPOCH, int(row["deleted_people"] or 0)


async def _set_state(at: datetime, deleted: int) -> None:
    async with write_transaction():
        await AdminRollupState.delete().where(AdminRollupState.name == NAME)
        await AdminRollupState(name=NAME, watermark=at, deleted_people=deleted).save()


async def _store_day(day: date, quality: DayQuality, completions: dict[str, int]) -> int:
    people = {g.user_id for g in quality.gaps} | set(completions)
    live = set(await live_user_zones(sorted(people))) if people else set()
    gaps = {g.user_id: g for g in quality.gaps if g.user_id in live}
    decisions = sum(g.served for g in gaps.values())
    features: dict[str, int] = {}
    for gap in gaps.values():
        for name, n in gap.missing.items():
            features[name] = features.get(name, 0) + n
    expected = feature_names() | set().union(*(gap.seen for gap in gaps.values()))
    feature_rows = [
        AdminFeatureDay(day=day, feature=name, decisions=decisions, missing=features.get(name, 0))
        for name in sorted(expected)
        if decisions
    ]
    signal_rows = []
    for user_id in sorted(live):
        g = gaps.get(user_id)
        served, reacted, incomplete = (g.served, g.reacted, g.incomplete) if g else (0, 0, 0)
        done = completions.get(user_id, 0)
        signal_rows.append(
            AdminSignalDay(
                user=user_id,
                day=day,
                served=served,
                reacted=reacted,
                incomplete=incomplete,
                completions=done,
                coverage=coverage(served, reacted, incomplete, done),
            )
        )
    writer_rows = [
        AdminWriterDay(
            day=day,
            kind=w.kind,
            model=w.model,
            prompt_version=w.prompt_version,
            served=w.served,
            reacted=w.reacted,
            reward_sum=round(w.reward_sum, 6),
        )
        for w in quality.writers
    ]
    async with write_transaction():
        for table in (AdminFeatureDay, AdminSignalDay, AdminWriterDay):
            await table.delete().where(table.day == day)
        for rows in (feature_rows, signal_rows, writer_rows):
            for start in range(0, len(rows), INSERT_BATCH):
                await type(rows[0]).insert(*rows[start : start + INSERT_BATCH])
    return len(signal_rows)


async def refresh_quality(now: datetime | None = None) -> dict[str, int]:
    """Summarise every day that changed since the last run; returns what it did."""
    started = now or datetime.now(UTC)
    watermark, deleted_before = await _state()
    deleted = await deleted_people()
    today = started.date()
    days = await days_changed_since(watermark - OVERLAP)
    days |= {today - timedelta(days=n) for n in range(RECENT_DAYS)}
    if deleted != deleted_before:  # someone left: their share leaves every day's figures
        days |= {today - timedelta(days=n) for n in range(REDO_DAYS)}
    expected = feature_names()
    people = 0
    for day in sorted(days):
        people += await _store_day(
            day, await day_quality_on(day, expected), await completions_on(day)
        )
    await _set_state(started, deleted)
    log.debug("quality rollups: %d days, %d person-days", len(days), people)
    return {"days": len(days), "person_days": people}
