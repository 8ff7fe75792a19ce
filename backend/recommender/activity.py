"""The decision log summarised per person and UTC day, for the admin rollups.

A read through the recommender's service layer (the admin domain never reads these tables):
which days changed since a time, and each changed day's served tips, reactions and rewards per
person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from backend.recommender.tables import ServedTip

PAGE = 20_000
"""Rows read per query when a day is summarised (bounded memory on big days)."""


@dataclass
class DayActivity:
    """One person's activity on one UTC day."""

    user_id: str
    day: date
    served: int = 0
    reactions: int = 0
    done: int = 0
    snoozed: int = 0
    dismissed: int = 0
    reward_sum: float = 0.0
    rewarded: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a UTC day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


async def days_changed_since(since: datetime) -> set[date]:
    """UTC days whose tips were served, or answered, at or after `since`."""
    rows = await ServedTip.select(ServedTip.served_at).where(
        (ServedTip.served_at >= since) | (ServedTip.reacted_at >= since)
    )
    return {r["served_at"].astimezone(UTC).date() for r in rows}


async def activity_on(day: date) -> list[DayActivity]:
    """Every person's activity on one UTC day (tips served that day, with their reactions)."""
    start, end = day_bounds(day)
    found: dict[str, DayActivity] = {}
    offset = 0
    while True:
        rows = (
            await ServedTip.select(
                ServedTip.id,
                ServedTip.user,
                ServedTip.served_at,
                ServedTip.reaction,
                ServedTip.reacted_at,
                ServedTip.reward,
            )
            .where((ServedTip.served_at >= start) & (ServedTip.served_at < end))
            .order_by(ServedTip.id)
            .limit(PAGE)
            .offset(offset)
        )
        _add(found, day, rows)
        if len(rows) < PAGE:
            return list(found.values())
        offset += PAGE


def _add(found: dict[str, DayActivity], day: date, rows: Iterable[dict[str, object]]) -> None:
    for r in rows:
        user_id = str(r["user"])
        act = found.get(user_id)
        if act is None:
            act = found[user_id] = DayActivity(user_id=user_id, day=day)
        act.served += 1
        moments = [m for m in (r["served_at"], r["reacted_at"]) if isinstance(m, datetime)]
        first, latest = min(moments), max(moments)
        act.first_at = first if act.first_at is None else min(act.first_at, first)
        act.last_at = latest if act.last_at is None else max(act.last_at, latest)
        reaction = r["reaction"]
        if reaction is None:
            continue
        act.reactions += 1
        if reaction == "done":
            act.done += 1
        elif reaction == "snooze":
            act.snoozed += 1
        elif reaction == "dismiss":
            act.dismissed += 1
        reward = r["reward"]
        if isinstance(reward, int | float):
            act.reward_sum += float(reward)
            act.rewarded += 1


@dataclass(frozen=True)
class DecisionRow:
    """One logged decision as the console lists it."""

    id: str
    served_at: datetime
    content: str
    kind: str
    source: str
    policy_id: str
    policy_version: str
    score: float
    propensity: float
    candidate_count: int
    reaction: str | None
    reward: float | None


async def recent_decisions(user_id: str, limit: int = 50) -> list[DecisionRow]:
    """The person's latest decisions, newest first."""
    rows = (
        await ServedTip.select(
            ServedTip.id,
            ServedTip.served_at,
            ServedTip.content,
            ServedTip.kind,
            ServedTip.source,
            ServedTip.policy_id,
            ServedTip.policy_version,
            ServedTip.score,
            ServedTip.propensity,
            ServedTip.candidate_count,
            ServedTip.reaction,
            ServedTip.reward,
        )
        .where(ServedTip.user == user_id)
        .order_by(ServedTip.served_at, ascending=False)
        .limit(limit)
    )
    return [
        DecisionRow(
            id=str(r["id"]),
            served_at=r["served_at"],
            content=str(r["content"]),
            kind=str(r["kind"]),
            source=str(r["source"]),
            policy_id=str(r["policy_id"]),
            policy_version=str(r["policy_version"]),
            score=float(r["score"]),
            propensity=float(r["propensity"]),
            candidate_count=int(r["candidate_count"]),
            reaction=r["reaction"],
            reward=r["reward"],
        )
        for r in rows
    ]
