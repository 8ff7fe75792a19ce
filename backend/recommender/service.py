"""Serving one tip and learning from the reaction (DESIGN.md §3, the hot path: no LLM here)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from backend.db import write_transaction
from backend.events.bus import publish
from backend.events.contracts import TipFeedback, TipServed
from backend.identity.service import Principal
from backend.integrations.service import open_items
from backend.queue import enqueue
from backend.recommender.features import Candidate, Context, candidate_features
from backend.recommender.policies import active_policy, get_policy
from backend.recommender.reward import MAX_DWELL_MS, Action, infer_reward
from backend.recommender.state import load_state, save_state
from backend.recommender.tables import Feedback, ServedTip, Snooze
from backend.redis import get_redis, key
from backend.settings import get_settings


@dataclass(frozen=True)
class TipView:
    """A served tip as pages and GraphQL show it."""

    id: str
    content: str
    kind: str
    source: str
    item_ref: str
    served_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reaction:
    """What a reaction earned."""

    tip: TipView
    action: Action
    dwell_ms: int
    dwell_source: str
    reward: float


class ReactionError(Exception):
    """A reaction that cannot be accepted; nothing was stored."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _view(row: dict[str, Any]) -> TipView:
    detail = row["detail"]
    return TipView(
        id=str(row["id"]),
        content=row["content"],
        kind=row["kind"],
        source=row["source"],
        item_ref=row["item_ref"],
        served_at=row["served_at"],
        detail=detail if isinstance(detail, dict) else {},
    )


async def _stable_tip(user_id: str, now: datetime) -> TipView | None:
    valid_after = now - timedelta(seconds=get_settings().tip_valid_s)
    row = (
        await ServedTip.select(
            ServedTip.id,
            ServedTip.content,
            ServedTip.kind,
            ServedTip.source,
            ServedTip.item_ref,
            ServedTip.served_at,
            ServedTip.detail,
        )
        .where(
            (ServedTip.user == user_id)
            & ServedTip.reacted_at.is_null()
            & (ServedTip.served_at > valid_after)
        )
        .order_by(ServedTip.served_at, ascending=False)
        .output(load_json=True)
        .first()
    )
    return _view(row) if row else None


async def _hidden_refs(user_id: str, now: datetime) -> set[str]:
    rows = await Snooze.select(Snooze.item_ref).where(
        (Snooze.user == user_id) & (Snooze.until > now)
    )
    return {r["item_ref"] for r in rows}


def _display_detail(candidate: Candidate, features: dict[str, float]) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "project": candidate.project,
        "priority": candidate.priority,
        "is_recurring": candidate.is_recurring,
        "due_date": candidate.due_date.isoformat()
        if isinstance(candidate.due_date, date)
        else None,
        "days_overdue": int(features["days_overdue"]),
    }
    return detail


async def current_tip(user: Principal) -> TipView | None:
    """The one tip for now: the unanswered one still valid, else a fresh pick (None: nothing)."""
    now = datetime.now(UTC)
    tip = await _stable_tip(user.user_id, now)
    if tip is not None:
        return tip
    # One pick at a time per user, so two tabs loading at once do not serve two tips.
    async with get_redis().lock(key("serve-lock", user.user_id), timeout=10, blocking_timeout=10):
        tip = await _stable_tip(user.user_id, now)
        if tip is not None:
            return tip
        return await _pick(user, now)


async def _pick(user: Principal, now: datetime) -> TipView | None:
    started = time.perf_counter()
    hidden = await _hidden_refs(user.user_id, now)
    candidates = [c for c in await open_items(user.user_id) if c.item_ref not in hidden]
    if not candidates:
        return None
    context = Context(now=now, timezone=user.timezone)
    policy = active_policy()
    state = await load_state(user.user_id, policy)
    decision = policy.score(state, context, candidates)
    chosen = candidates[decision.choice]
    features = candidate_features(chosen, context)
    latency_ms = (time.perf_counter() - started) * 1000
    row = ServedTip(
        user=user.user_id,
        item_ref=chosen.item_ref,
        source=chosen.source,
        kind=chosen.kind,
        content=chosen.content,
        detail=_display_detail(chosen, features),
        features=features,
        candidate_count=len(candidates),
        policy_id=policy.id,
        policy_version=policy.version,
        score=decision.scores[decision.choice],
        propensity=decision.propensity,
        latency_ms=latency_ms,
        served_at=now,
    )
    await row.save()
    await publish(
        user.user_id,
        TipServed(
            tip_id=str(row.id),
            item_ref=chosen.item_ref,
            source=chosen.source,
            kind=chosen.kind,
            policy_id=policy.id,
            policy_version=policy.version,
            propensity=decision.propensity,
            candidate_count=len(candidates),
            latency_ms=round(latency_ms, 3),
        ),
    )
    return TipView(
        id=str(row.id),
        content=chosen.content,
        kind=chosen.kind,
        source=chosen.source,
        item_ref=chosen.item_ref,
        served_at=now,
        detail=row.detail if isinstance(row.detail, dict) else {},
    )


def _parse_tip_id(tip_id: str) -> str:
    try:
        return str(uuid.UUID(tip_id))
    except (ValueError, AttributeError):
        raise ReactionError("NOT_FOUND", "No such tip.", "tipId") from None


def _candidate_of(row: dict[str, Any]) -> Candidate:
    return Candidate(
        item_ref=row["item_ref"], source=row["source"], kind=row["kind"], content=row["content"]
    )


async def react(user: Principal, tip_id: str, action: Action, dwell_ms: int | None) -> Reaction:
    """Record a reaction once, reward it, and update the policy in the same transaction."""
    tid = _parse_tip_id(tip_id)
    if dwell_ms is not None and not 0 <= dwell_ms <= MAX_DWELL_MS:
        raise ReactionError(
            "INVALID_DWELL",
            f"dwellMs must be between 0 and {MAX_DWELL_MS} (24 hours).",
            "dwellMs",
        )
    now = datetime.now(UTC)
    try:
        async with write_transaction():
            row = (
                await ServedTip.select()
                .where((ServedTip.id == tid) & (ServedTip.user == user.user_id))
                .output(load_json=True)
                .first()
            )
            if row is None:
                raise ReactionError("NOT_FOUND", "No such tip.", "tipId")
            if row["reacted_at"] is not None:
                raise ReactionError("ALREADY_REACTED", "This tip already has a reaction.", "tipId")
            dwell_source = "client"
            if dwell_ms is None:
                dwell_source = "server"
                elapsed = int((now - row["served_at"]).total_seconds() * 1000)
                dwell_ms = max(0, min(elapsed, MAX_DWELL_MS))
            reward = infer_reward(action, dwell_ms)
            await Feedback(
                tip=tid,
                user=user.user_id,
                action=action.value,
                dwell_ms=dwell_ms,
                dwell_source=dwell_source,
                reward=reward,
                created_at=now,
            ).save()
            await ServedTip.update({ServedTip.reacted_at: now}).where(ServedTip.id == tid)
            if action is not Action.DONE:
                hide_s = (
                    get_settings().snooze_s if action is Action.SNOOZE else get_settings().dismiss_s
                )
                await Snooze(
                    user=user.user_id,
                    item_ref=row["item_ref"],
                    until=now + timedelta(seconds=hide_s),
                    reason=action.value,
                ).save()
            await _learn(user, row, reward, now)
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
        raise ReactionError(
            "ALREADY_REACTED", "This tip already has a reaction.", "tipId"
        ) from None
    tip = _view(row)
    await publish(
        user.user_id,
        TipFeedback(
            tip_id=tip.id,
            item_ref=tip.item_ref,
            action=action.value,
            dwell_ms=dwell_ms,
            dwell_source=dwell_source,
            reward=reward,
            reward_source="reaction",
        ),
    )
    if action is Action.DONE and tip.kind == "task":
        await enqueue(
            "complete_item", user.user_id, tip.item_ref, tip.id, job_id=f"complete:{tip.id}"
        )
    return Reaction(
        tip=tip, action=action, dwell_ms=dwell_ms, dwell_source=dwell_source, reward=reward
    )


async def _learn(user: Principal, row: dict[str, Any], reward: float, now: datetime) -> None:
    try:
        policy = get_policy(row["policy_id"])
    except KeyError:
        return  # a retired policy: the reward is logged, there is no state to update
    context = Context(now=now, timezone=user.timezone)
    state = await load_state(user.user_id, policy)
    await save_state(
        user.user_id, policy, policy.update(state, context, _candidate_of(row), reward)
    )
