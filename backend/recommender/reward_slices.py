"""Reward analytics over the decision log: one grouped query per request, on either database.

Each row of the answer is one (time bucket, slice key) cell with counts and the reward's sum and
sum of squares, so the caller gets means *and* 95 % confidence intervals of any combination of
cells without reading a decision twice. The slice expressions differ per database (SQLite's
strftime / json_extract, PostgreSQL's extract / ->>); everything else is the same SQL. Times
are UTC. Deleted people are left out by the join on the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.db import engine
from backend.recommender.tables import ServedTip, ShadowDecision

SLICES = (
    "TIME",
    "POLICY",
    "HOUR_OF_DAY",
    "WEEKDAY",
    "PRIORITY",
    "KIND",
    "SOURCE",
    "MODEL",
    "PROMPT_VERSION",
    "COHORT",
)
PERIODS = ("DAY", "HOUR")

_PG: dict[str, str] = {
    "TIME": "'all'",
    "POLICY": "s.policy_id || ' ' || s.policy_version",
    "HOUR_OF_DAY": "CAST(EXTRACT(HOUR FROM s.served_at AT TIME ZONE 'UTC') AS INTEGER)",
    "WEEKDAY": "CAST(EXTRACT(ISODOW FROM s.served_at AT TIME ZONE 'UTC') AS INTEGER) - 1",
    "PRIORITY": "CAST(s.detail AS JSON) ->> 'priority'",
    "KIND": "s.kind",
    "SOURCE": "s.source",
    "MODEL": "CAST(s.detail AS JSON) ->> 'model'",
    "PROMPT_VERSION": "CAST(s.detail AS JSON) ->> 'prompt_version'",
    "COHORT": "TO_CHAR(DATE_TRUNC('week', u.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
}
_SQLITE: dict[str, str] = {
    "TIME": "'all'",
    "POLICY": "s.policy_id || ' ' || s.policy_version",
    "HOUR_OF_DAY": "CAST(STRFTIME('%H', s.served_at) AS INTEGER)",
    "WEEKDAY": "(CAST(STRFTIME('%w', s.served_at) AS INTEGER) + 6) % 7",
    "PRIORITY": "JSON_EXTRACT(s.detail, '$.priority')",
    "KIND": "s.kind",
    "SOURCE": "s.source",
    "MODEL": "JSON_EXTRACT(s.detail, '$.model')",
    "PROMPT_VERSION": "JSON_EXTRACT(s.detail, '$.prompt_version')",
    "COHORT": "DATE(u.created_at, 'weekday 0', '-6 days')",
}
_BUCKET = {
    ("postgres", "DAY"): "TO_CHAR(s.served_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    ("postgres", "HOUR"): "TO_CHAR(s.served_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')",
    ("sqlite", "DAY"): "STRFTIME('%Y-%m-%d', s.served_at)",
    ("sqlite", "HOUR"): "STRFTIME('%Y-%m-%dT%H', s.served_at)",
}


@dataclass(frozen=True)
class SliceFilter:
    """The window [since, until) and what else the log is narrowed to (None: any)."""

    since: datetime
    until: datetime
    user_id: str | None = None
    policy_id: str | None = None
    kind: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Cell:
    """One (bucket, key) cell of the grouped log."""

    bucket: str
    key: str | None
    decisions: int
    reactions: int
    done: int
    snoozed: int
    dismissed: int
    rewarded: int
    reward_sum: float
    reward_sq: float


def _where(f: SliceFilter) -> tuple[str, list[Any]]:
    clauses = ["u.deleted_at IS NULL", "s.served_at >= {}", "s.served_at < {}"]
    args: list[Any] = [f.since, f.until]
    for column, value in (
        ('s."user"', f.user_id),
        ("s.policy_id", f.policy_id),
        ("s.kind", f.kind),
        ("s.source", f.source),
    ):
        if value is not None:
            clauses.append(f"{column} = {{}}")
            args.append(value)
    return " AND ".join(clauses), args


async def reward_cells(slice_by: str, period: str, f: SliceFilter) -> list[Cell]:
    """The log in [since, until) grouped by time bucket (DAY / HOUR) and slice key."""
    if slice_by not in SLICES or period not in PERIODS:
        raise ValueError(f"unknown slice {slice_by!r} or period {period!r}")
    kind = "postgres" if engine().engine_type == "postgres" else "sqlite"
    key = (_PG if kind == "postgres" else _SQLITE)[slice_by]
    bucket = _BUCKET[(kind, period)]
    where, args = _where(f)
    sql = f"""
        SELECT {bucket} AS bucket, CAST({key} AS TEXT) AS slice_key,
               COUNT(*) AS decisions,
               COUNT(s.reaction) AS reactions,
               SUM(CASE WHEN s.reaction = 'done' THEN 1 ELSE 0 END) AS done,
               SUM(CASE WHEN s.reaction = 'snooze' THEN 1 ELSE 0 END) AS snoozed,
               SUM(CASE WHEN s.reaction = 'dismiss' THEN 1 ELSE 0 END) AS dismissed,
               COUNT(s.reward) AS rewarded,
               COALESCE(SUM(s.reward), 0) AS reward_sum,
               COALESCE(SUM(s.reward * s.reward), 0) AS reward_sq
        FROM served_tip s JOIN app_user u ON u.id = s."user"
        WHERE {where}
        GROUP BY 1, 2
        ORDER BY 1, 2
    """  # noqa: S608 - the interpolated parts are constants chosen above; values are bound
    rows = await ServedTip.raw(sql, *args)
    return [_cell(r, str(r["bucket"])) for r in rows]


def _cell(r: dict[str, Any], bucket: str | None) -> Cell:
    key = r.get("slice_key")
    return Cell(
        bucket=bucket or "",
        key=None if key is None else str(key),
        decisions=int(r["decisions"]),
        reactions=int(r["reactions"]),
        done=int(r["done"] or 0),
        snoozed=int(r["snoozed"] or 0),
        dismissed=int(r["dismissed"] or 0),
        rewarded=int(r["rewarded"]),
        reward_sum=float(r["reward_sum"] or 0.0),
        reward_sq=float(r["reward_sq"] or 0.0),
    )


@dataclass(frozen=True)
class Agreement:
    """How often one shadow policy version picked what the active policy served."""

    policy_id: str
    policy_version: str
    shadow_decisions: int
    agreed: int


async def shadow_agreement(f: SliceFilter) -> list[Agreement]:
    """Per shadow policy version: its decisions in the window and how many agreed."""
    where, args = _where(f)
    sql = f"""
        SELECT d.policy_id, d.policy_version, COUNT(*) AS n,
               SUM(CASE WHEN d.agrees THEN 1 ELSE 0 END) AS agreed
        FROM shadow_decision d
        JOIN served_tip s ON s.id = d.tip
        JOIN app_user u ON u.id = s."user"
        WHERE {where}
        GROUP BY d.policy_id, d.policy_version
        ORDER BY d.policy_id, d.policy_version
    """  # noqa: S608 - the interpolated parts are constants chosen above; values are bound
    rows = await ShadowDecision.raw(sql, *args)
    return [
        Agreement(
            policy_id=str(r["policy_id"]),
            policy_version=str(r["policy_version"]),
            shadow_decisions=int(r["n"]),
            agreed=int(r["agreed"] or 0),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class HourCell:
    """One UTC hour × every slice dimension of the log, with its counts and reward sums."""

    hour: datetime
    policy_id: str
    policy_version: str
    kind: str
    source: str
    priority: str
    model: str
    prompt_version: str
    cohort: str
    cell: Cell


async def hour_cells(since: datetime, until: datetime) -> list[HourCell]:
    """The log in [since, until) per UTC hour and every dimension (for the admin rollup)."""
    kind = "postgres" if engine().engine_type == "postgres" else "sqlite"
    keys = _PG if kind == "postgres" else _SQLITE
    where, args = _where(SliceFilter(since, until))
    dims = ", ".join(
        f"COALESCE(CAST({keys[k]} AS TEXT), '') AS {k.lower()}"
        for k in ("PRIORITY", "MODEL", "PROMPT_VERSION", "COHORT")
    )
    sql = f"""
        SELECT {_BUCKET[(kind, "HOUR")]} AS bucket, s.policy_id, s.policy_version, s.kind,
               s.source, {dims},
               COUNT(*) AS decisions,
               COUNT(s.reaction) AS reactions,
               SUM(CASE WHEN s.reaction = 'done' THEN 1 ELSE 0 END) AS done,
               SUM(CASE WHEN s.reaction = 'snooze' THEN 1 ELSE 0 END) AS snoozed,
               SUM(CASE WHEN s.reaction = 'dismiss' THEN 1 ELSE 0 END) AS dismissed,
               COUNT(s.reward) AS rewarded,
               COALESCE(SUM(s.reward), 0) AS reward_sum,
               COALESCE(SUM(s.reward * s.reward), 0) AS reward_sq
        FROM served_tip s JOIN app_user u ON u.id = s."user"
        WHERE {where}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    """  # noqa: S608 - the interpolated parts are constants chosen above; values are bound
    rows = await ServedTip.raw(sql, *args)
    return [
        HourCell(
            hour=datetime.strptime(str(r["bucket"]), "%Y-%m-%dT%H").replace(tzinfo=UTC),
            policy_id=str(r["policy_id"]),
            policy_version=str(r["policy_version"]),
            kind=str(r["kind"]),
            source=str(r["source"]),
            priority=str(r["priority"]),
            model=str(r["model"]),
            prompt_version=str(r["prompt_version"]),
            cohort=str(r["cohort"]),
            cell=_cell(r, None),
        )
        for r in rows
    ]


async def hours_changed_since(since: datetime) -> set[datetime]:
    """UTC hours whose tips were served, or answered, at or after `since`."""
    rows = await ServedTip.select(ServedTip.served_at).where(
        (ServedTip.served_at >= since) | (ServedTip.reacted_at >= since)
    )
    return {r["served_at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0) for r in rows}
