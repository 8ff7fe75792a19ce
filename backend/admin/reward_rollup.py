"""Keeping the hourly reward rollup current, and reading reward cells from it.

Incremental and idempotent like the other console rollups (docs/adr/0016): each run finds the
UTC hours whose tips were served or answered since its watermark (less an overlap) and
summarises each of them again, whole, from the log — never by adding increments. After an
account deletion the log's retention window is redone, so the person's share leaves every hour
the log still holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.admin.reward_tables import AdminRewardHour
from backend.admin.tables import AdminRollupState
from backend.db import engine, write_transaction
from backend.identity.service import deleted_people
from backend.recommender.reward_slices import Cell, hour_cells, hours_changed_since

log = logging.getLogger("oo.admin.reward_rollup")

NAME = "reward_hour"
OVERLAP = timedelta(seconds=30)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SPAN = timedelta(hours=24)
"""At most this many consecutive hours are summarised by one query."""
REDO_AFTER_DELETION = timedelta(days=31)
"""The decision log's retention (30 days) and a day: what is redone after a deletion."""
INSERT_BATCH = 1000


def spans(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours merged into [start, end) spans of at most `SPAN`."""
    found: list[tuple[datetime, datetime]] = []
    for h in sorted(set(hours)):
        if found and found[-1][1] == h and h + HOUR - found[-1][0] <= SPAN:
            found[-1] = (found[-1][0], h + HOUR)
        else:
            found.append((h, h + HOUR))
    return found


def _floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def recompute(since: datetime, until: datetime) -> int:
    """Summarise every hour of [since, until) again from the log; returns the rows written."""
    start = _floor(since)
    cells = await hour_cells(start, until)
    rows = [
        AdminRewardHour(
            hour=c.hour,
            policy_id=c.policy_id,
            policy_version=c.policy_version,
            kind=c.kind,
            source=c.source,
            priority=c.priority,
            model=c.model,
            prompt_version=c.prompt_version,
            cohort=c.cohort,
            decisions=c.cell.decisions,
            reactions=c.cell.reactions,
            done=c.cell.done,
            snoozed=c.cell.snoozed,
            dismissed=c.cell.dismissed,
            rewarded=c.cell.rewarded,
            reward_sum=c.cell.reward_sum,
            reward_sq=c.cell.reward_sq,
        )
        for c in cells
    ]
    async with write_transaction():
        await AdminRewardHour.delete().where(
            (AdminRewardHour.hour >= start) & (AdminRewardHour.hour < until)
        )
        for i in range(0, len(rows), INSERT_BATCH):  # within PostgreSQL's parameter limit
            await AdminRewardHour.insert(*rows[i : i + INSERT_BATCH])
    return len(rows)


async def _state() -> tuple[datetime, int]:
    row = await AdminRollupState.select().where(AdminRollupState.name == NAME).first()
    if row is None:
        return EPOCH, 0
    return row["watermark"] or EPOCH, int(row["deleted_people"] or 0)


async def _set_state(at: datetime, deleted: int) -> None:
    async with write_transaction():
        await AdminRollupState.delete().where(AdminRollupState.name == NAME)
        await AdminRollupState(name=NAME, watermark=at, deleted_people=deleted).save()


async def refresh(now: datetime | None = None) -> dict[str, int]:
    """Summarise every hour that changed since the last run; returns what it did."""
    started = now or datetime.now(UTC)
    watermark, deleted_before = await _state()
    deleted = await deleted_people()
    hours = await hours_changed_since(watermark - OVERLAP)
    if deleted != deleted_before:  # someone left: redo every hour the log still holds
        first = _floor(started - REDO_AFTER_DELETION)
        hours |= {first + HOUR * n for n in range(int(REDO_AFTER_DELETION / HOUR) + 1)}
    written = 0
    todo = spans(hours)
    for since, until in todo:
        written += await recompute(since, until)
    await _set_state(started, deleted)
    if hours:
        log.info("reward rollup: %d hours, %d rows", len(hours), written)
    return {"hours": len(hours), "spans": len(todo), "rows": written}


_KEY_SQL = {
    "TIME": "''",
    "HOUR_OF_DAY": "''",
    "WEEKDAY": "''",
    "POLICY": "r.policy_id || ' ' || r.policy_version",
    "PRIORITY": "r.priority",
    "KIND": "r.kind",
    "SOURCE": "r.source",
    "MODEL": "r.model",
    "PROMPT_VERSION": "r.prompt_version",
    "COHORT": "r.cohort",
}
_BUCKET_SQL = {
    ("postgres", "DAY"): "TO_CHAR(r.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    ("postgres", "HOUR"): "TO_CHAR(r.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')",
    ("sqlite", "DAY"): "STRFTIME('%Y-%m-%d', r.hour)",
    ("sqlite", "HOUR"): "STRFTIME('%Y-%m-%dT%H', r.hour)",
}


async def rollup_cells(
    slice_by: str,
    period: str,
    since: datetime,
    until: datetime,
    policy_id: str | None = None,
    kind: str | None = None,
    source: str | None = None,
) -> list[Cell]:
    """Cells of [since, until) summed from the rollup in SQL, per bucket and slice key (hour
    of day and weekday: per hour, keyed by the caller)."""
    db = "postgres" if engine().engine_type == "postgres" else "sqlite"
    by_hour = period == "HOUR" or slice_by in ("HOUR_OF_DAY", "WEEKDAY")
    bucket = _BUCKET_SQL[(db, "HOUR" if by_hour else "DAY")]
    clauses = ["r.hour >= {}", "r.hour < {}"]
    args: list[Any] = [since, until]
    for column, value in (("r.policy_id", policy_id), ("r.kind", kind), ("r.source", source)):
        if value is not None:
            clauses.append(f"{column} = {{}}")
            args.append(value)
    sql = f"""
        SELECT {bucket} AS bucket, {_KEY_SQL[slice_by]} AS slice_key,
               SUM(r.decisions) AS decisions, SUM(r.reactions) AS reactions,
               SUM(r.done) AS done, SUM(r.snoozed) AS snoozed, SUM(r.dismissed) AS dismissed,
               SUM(r.rewarded) AS rewarded, SUM(r.reward_sum) AS reward_sum,
               SUM(r.reward_sq) AS reward_sq
        FROM admin_reward_hour r
        WHERE {" AND ".join(clauses)}
        GROUP BY 1, 2
    """  # noqa: S608 - the interpolated parts are constants chosen above; values are bound
    rows = await AdminRewardHour.raw(sql, *args)
    return [
        Cell(
            bucket=str(r["bucket"]),
            key=str(r["slice_key"]) or None,
            decisions=int(r["decisions"] or 0),
            reactions=int(r["reactions"] or 0),
            done=int(r["done"] or 0),
            snoozed=int(r["snoozed"] or 0),
            dismissed=int(r["dismissed"] or 0),
            rewarded=int(r["rewarded"] or 0),
            reward_sum=float(r["reward_sum"] or 0.0),
            reward_sq=float(r["reward_sq"] or 0.0),
        )
        for r in rows
    ]
