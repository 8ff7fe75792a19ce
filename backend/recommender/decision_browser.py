"""The decision log as the console browses it: filtered, keyset-paged lists, one decision with
its reaction, shadow picks and candidate set, and a person's logged features over time.

Read through the recommender's service layer (the admin domain never reads these tables).
Deleted people are left out by a join on the person (their rows are purged shortly after).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.custom_types import Combinable

from backend.contracts.errors import Refused
from backend.recommender.candidate_log import logged_rows
from backend.recommender.tables import Feedback, ServedTip, ShadowDecision

MAX_PAGE = 200
REACTIONS = ("done", "snooze", "dismiss", "none")
"""Reaction filter values ("none": not answered)."""
DELAYED_SOURCE = "source"
"""Feedback.reward_source of a reward inferred later (the task was completed at its source)."""


class BrowseError(Refused):
    """A refused list request (bad cursor, page size, filter value)."""


@dataclass(frozen=True)
class DecisionFilter:
    """What the log is narrowed to; None/empty means any."""

    user_id: str | None = None
    policy_id: str | None = None
    kind: str | None = None
    source: str | None = None
    reaction: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DecisionSummary:
    """One logged decision as the list shows it."""

    id: str
    user_id: str
    served_at: datetime
    content: str
    item_ref: str
    kind: str
    source: str
    policy_id: str
    policy_version: str
    score: float
    propensity: float
    candidate_count: int
    latency_ms: float
    reaction: str | None
    reacted_at: datetime | None
    reward: float | None
    explanation: dict[str, Any]
    features: dict[str, float]


@dataclass(frozen=True)
class ShadowPick:
    """What one shadow policy would have served instead."""

    policy_id: str
    policy_version: str
    item_ref: str
    score: float
    propensity: float
    served_propensity: float
    agrees: bool
    explored: bool


@dataclass(frozen=True)
class Reaction:
    """The feedback row: how the person answered and the reward it earned."""

    action: str
    dwell_ms: int
    dwell_source: str
    reward: float
    reward_source: str
    recorded_at: datetime

    @property
    def delayed(self) -> bool:
        """Inferred later from the source (a task completed in Todoist), not a tap in oO."""
        return self.reward_source == DELAYED_SOURCE


@dataclass(frozen=True)
class LoggedCandidate:
    """One candidate the decision ranked, as far as the log keeps it: its ref and raw features
    (titles, scores and per-candidate propensities are not stored)."""

    item_ref: str
    chosen: bool
    features: dict[str, float]


@dataclass(frozen=True)
class DecisionDetail:
    """Everything the log holds about one decision."""

    summary: DecisionSummary
    detail: dict[str, Any]
    reaction: Reaction | None
    shadows: list[ShadowPick]
    candidates: list[LoggedCandidate]
    candidates_logged: bool
    """False for rows logged before candidate sets were recorded."""


@dataclass(frozen=True)
class DecisionPage:
    """A page of decisions, newest first, and the cursor after its last row."""

    rows: list[DecisionSummary]
    has_next: bool
    end_cursor: str | None
    filters: DecisionFilter = field(default_factory=DecisionFilter)


def cursor_of(row: DecisionSummary) -> str:
    """An opaque keyset cursor: (served_at, id) of the row."""
    return base64.urlsafe_b64encode(f"d|{row.served_at.isoformat()}|{row.id}".encode()).decode()


def _position(cursor: str) -> tuple[datetime, str]:
    try:
        kind, at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if kind != "d":
            raise ValueError(kind)
        return datetime.fromisoformat(at), str(uuid.UUID(row_id))
    except ValueError:
        raise BrowseError(
            "INVALID_CURSOR", "That cursor is not one this list gave.", "after"
        ) from None


def _uuid_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


_SUMMARY = (
    ServedTip.id,
    ServedTip.user,
    ServedTip.served_at,
    ServedTip.content,
    ServedTip.item_ref,
    ServedTip.kind,
    ServedTip.source,
    ServedTip.policy_id,
    ServedTip.policy_version,
    ServedTip.score,
    ServedTip.propensity,
    ServedTip.candidate_count,
    ServedTip.latency_ms,
    ServedTip.reaction,
    ServedTip.reacted_at,
    ServedTip.reward,
    ServedTip.explanation,
    ServedTip.features,
)


def _summary(r: dict[str, Any]) -> DecisionSummary:
    why = r["explanation"] if isinstance(r["explanation"], dict) else {}
    feats = r["features"] if isinstance(r["features"], dict) else {}
    return DecisionSummary(
        id=str(r["id"]),
        user_id=str(r["user"]),
        served_at=r["served_at"],
        content=str(r["content"]),
        item_ref=str(r["item_ref"]),
        kind=str(r["kind"]),
        source=str(r["source"]),
        policy_id=str(r["policy_id"]),
        policy_version=str(r["policy_version"]),
        score=float(r["score"]),
        propensity=float(r["propensity"]),
        candidate_count=int(r["candidate_count"]),
        latency_ms=float(r["latency_ms"]),
        reaction=r["reaction"],
        reacted_at=r["reacted_at"],
        reward=r["reward"],
        explanation=why,
        features={str(k): float(v) for k, v in feats.items() if isinstance(v, int | float)},
    )


def _where(f: DecisionFilter) -> Combinable:
    where: Combinable = ServedTip.user.deleted_at.is_null()
    if f.user_id is not None:
        where = where & (ServedTip.user == f.user_id)
    if f.policy_id:
        where = where & (ServedTip.policy_id == f.policy_id)
    if f.kind:
        where = where & (ServedTip.kind == f.kind)
    if f.source:
        where = where & (ServedTip.source == f.source)
    if f.reaction == "none":
        where = where & ServedTip.reaction.is_null()
    elif f.reaction:
        where = where & (ServedTip.reaction == f.reaction)
    if f.since is not None:
        where = where & (ServedTip.served_at >= f.since)
    if f.until is not None:
        where = where & (ServedTip.served_at < f.until)
    return where


def check_filter(f: DecisionFilter) -> None:
    """Refuse values no decision can have (a typed error beats an empty list that hides a typo)."""
    if f.reaction and f.reaction not in REACTIONS:
        raise BrowseError(
            "INVALID_FILTER", f"reaction is one of {', '.join(REACTIONS)}.", "reaction"
        )
    if f.user_id is not None and _uuid_or_none(f.user_id) is None:
        raise BrowseError("INVALID_FILTER", "person is a person's id.", "person")
    if f.since is not None and f.until is not None and f.since >= f.until:
        raise BrowseError("INVALID_FILTER", "from must be before to.", "from")


async def decisions(f: DecisionFilter, first: int = 50, after: str | None = None) -> DecisionPage:
    """Decisions matching the filter, newest first (keyset paging: fast at any depth)."""
    if not 1 <= first <= MAX_PAGE:
        raise BrowseError("INVALID_PAGE_SIZE", f"first must be 1 to {MAX_PAGE}.", "first")
    check_filter(f)
    where = _where(f)
    if after:
        at, row_id = _position(after)
        where = where & (
            (ServedTip.served_at < at) | ((ServedTip.served_at == at) & (ServedTip.id < row_id))
        )
    rows = (
        await ServedTip.select(*_SUMMARY)
        .where(where)
        .order_by(ServedTip.served_at, ascending=False)
        .order_by(ServedTip.id, ascending=False)
        .limit(first + 1)
        .output(load_json=True)
    )
    found = [_summary(r) for r in rows[:first]]
    return DecisionPage(
        rows=found,
        has_next=len(rows) > first,
        end_cursor=cursor_of(found[-1]) if found else None,
        filters=f,
    )


def _shadow(s: dict[str, Any]) -> ShadowPick:
    return ShadowPick(
        policy_id=str(s["policy_id"]),
        policy_version=str(s["policy_version"]),
        item_ref=str(s["item_ref"]),
        score=float(s["score"]),
        propensity=float(s["propensity"]),
        served_propensity=float(s["served_propensity"]),
        agrees=bool(s["agrees"]),
        explored=bool(s["explored"]),
    )


def _candidates(log: Any, chosen_ref: str) -> list[LoggedCandidate]:
    logged = logged_rows(log)
    if logged is None:
        return []
    refs, keys, values = logged
    return [
        LoggedCandidate(
            item_ref=str(ref),
            chosen=ref == chosen_ref,
            features={str(k): float(v) for k, v in zip(keys, row, strict=False)},
        )
        for ref, row in zip(refs, values, strict=False)
    ]


async def decision(tip_id: str) -> DecisionDetail | None:
    """One decision with its reaction, shadow picks and candidates (None: unknown, or the
    person deleted their account)."""
    row_id = _uuid_or_none(tip_id)
    if row_id is None:
        return None
    row = (
        await ServedTip.select(*_SUMMARY, ServedTip.detail, ServedTip.candidates)
        .where((ServedTip.id == row_id) & ServedTip.user.deleted_at.is_null())
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    feedback = await Feedback.select().where(Feedback.tip == row_id).first()
    shadows = (
        await ShadowDecision.select()
        .where(ShadowDecision.tip == row_id)
        .order_by(ShadowDecision.policy_id)
    )
    candidates = _candidates(row["candidates"], str(row["item_ref"]))
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    return DecisionDetail(
        summary=_summary(row),
        detail=detail,
        reaction=_reaction(feedback) if feedback else None,
        shadows=[_shadow(s) for s in shadows],
        candidates=candidates,
        candidates_logged=bool(candidates),
    )


async def shadow_picks(tip_ids: list[str]) -> dict[str, list[ShadowPick]]:
    """The shadow picks of several decisions (one query), by decision id."""
    if not tip_ids:
        return {}
    rows = await ShadowDecision.select().where(ShadowDecision.tip.is_in(tip_ids))
    found: dict[str, list[ShadowPick]] = {t: [] for t in tip_ids}
    for s in rows:
        found.setdefault(str(s["tip"]), []).append(_shadow(s))
    return found


@dataclass(frozen=True)
class FeaturePoint:
    """The features the served candidate was scored with, at one decision."""

    decision_id: str
    served_at: datetime
    features: dict[str, float]


async def feature_history(
    user_id: str, since: datetime, until: datetime, limit: int = 500
) -> list[FeaturePoint]:
    """The person's served candidates' logged features in [since, until), oldest first
    (the newest `limit` decisions of the window)."""
    if _uuid_or_none(user_id) is None:
        return []
    rows = (
        await ServedTip.select(ServedTip.id, ServedTip.served_at, ServedTip.features)
        .where(
            (ServedTip.user == user_id)
            & ServedTip.user.deleted_at.is_null()
            & (ServedTip.served_at >= since)
            & (ServedTip.served_at < until)
        )
        .order_by(ServedTip.served_at, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    return [
        FeaturePoint(
            decision_id=str(r["id"]),
            served_at=r["served_at"],
            features={
                str(k): float(v)
                for k, v in (r["features"] or {}).items()
                if isinstance(v, int | float)
            },
        )
        for r in reversed(rows)
    ]


def _reaction(r: dict[str, Any]) -> Reaction:
    return Reaction(
        action=str(r["action"]),
        dwell_ms=int(r["dwell_ms"]),
        dwell_source=str(r["dwell_source"]),
        reward=float(r["reward"]),
        reward_source=str(r["reward_source"]),
        recorded_at=r["created_at"],
    )


async def reactions_of(tip_ids: list[str]) -> dict[str, Reaction]:
    """The feedback rows of several decisions (one query), by decision id."""
    if not tip_ids:
        return {}
    rows = await Feedback.select().where(Feedback.tip.is_in(tip_ids))
    return {str(r["tip"]): _reaction(r) for r in rows}
