"""Serving one tip and learning from the reaction (DESIGN.md §3, the hot path: no LLM here)."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from backend.contracts.errors import Refused
from backend.contracts.json import json_object
from backend.contracts.principal import Principal
from backend.db import write_transaction
from backend.events.bus import publish
from backend.events.contracts import TipFeedback, TipServed
from backend.queue import enqueue
from backend.recommender import tip_cache
from backend.recommender.decisions import display_detail, pick
from backend.recommender.habits_cache import (  # re-exported: privacy drops it with the data
    forget_habits as forget_habits,
)
from backend.recommender.learning import learn
from backend.recommender.reward import MAX_DWELL_MS, Action, infer_reward
from backend.recommender.tables import Feedback, ServedTip, Snooze
from backend.recommender.tip_cache import TipView as TipView  # pages and GraphQL read it here
from backend.redis import get_redis, key
from backend.settings import get_settings


@dataclass(frozen=True)
class Reaction:
    """What a reaction earned."""

    tip: TipView
    action: Action
    dwell_ms: int
    dwell_source: str
    reward: float


class ReactionError(Refused):
    """A reaction that cannot be accepted; nothing was stored."""


def _view(row: dict[str, Any]) -> TipView:
    detail = row["detail"]
    why = row.get("explanation")
    return TipView(
        id=str(row["id"]),
        content=row["content"],
        kind=row["kind"],
        source=row["source"],
        item_ref=row["item_ref"],
        served_at=row["served_at"],
        detail=json_object(detail),
        explanation=json_object(why),
    )


async def _stable_tip(user_id: str, now: datetime) -> TipView | None:
    valid_for = timedelta(seconds=get_settings().tip_valid_s)
    valid_after = now - valid_for
    cached = await tip_cache.get(user_id)
    if cached is not None and cached.served_at > valid_after:
        return cached
    row = (
        await ServedTip.select(
            ServedTip.id,
            ServedTip.content,
            ServedTip.kind,
            ServedTip.source,
            ServedTip.item_ref,
            ServedTip.served_at,
            ServedTip.detail,
            ServedTip.explanation,
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
    if row is None:
        return None
    tip = _view(row)
    await tip_cache.put(user_id, tip, valid_for, now)
    return tip


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
    served = await pick(user, now)
    if served is None:
        return None
    chosen, decision, policy = served.candidate, served.decision, served.policy
    await publish(
        user.user_id,
        TipServed(
            tip_id=served.tip_id,
            item_ref=chosen.item_ref,
            source=chosen.source,
            kind=chosen.kind,
            policy_id=policy.id,
            policy_version=policy.version,
            propensity=decision.propensity,
            candidate_count=served.candidate_count,
            latency_ms=round(served.latency_ms, 3),
            model=chosen.written.model if chosen.written else "",
            prompt_version=chosen.written.prompt_version if chosen.written else "",
            served_at=now.isoformat(),
            content=chosen.content,
            project=chosen.project,
            due_date=chosen.due_date.isoformat() if chosen.due_date else "",
        ),
    )
    return TipView(
        id=served.tip_id,
        content=chosen.content,
        kind=chosen.kind,
        source=chosen.source,
        item_ref=chosen.item_ref,
        served_at=now,
        detail=display_detail(chosen, served.features),
        explanation=served.explanation,
    )


def _parse_tip_id(tip_id: str) -> str:
    try:
        return str(uuid.UUID(tip_id))
    except (ValueError, AttributeError):
        raise ReactionError("NOT_FOUND", "No such tip.", "tipId") from None


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
            await ServedTip.update(
                {
                    ServedTip.reacted_at: now,
                    ServedTip.reaction: action.value,
                    ServedTip.reward: reward,
                }
            ).where(ServedTip.id == tid)
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
            await learn(user.user_id, user.timezone, row, reward)
    except ReactionError as err:
        if err.code == "ALREADY_REACTED":
            await tip_cache.drop(user.user_id)  # whatever cached it is out of date
        raise
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
        await tip_cache.drop(user.user_id)
        raise ReactionError(
            "ALREADY_REACTED", "This tip already has a reaction.", "tipId"
        ) from None
    await tip_cache.drop(user.user_id)
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
            reacted_at=now.isoformat(),
        ),
    )
    if action is Action.DONE and tip.kind == "task":
        # A written task tip names the source task it is about; advice and the other kinds
        # have no side effect at the source ("done" on them is just a reward).
        target = str(tip.detail.get("task_ref") or tip.item_ref)
        await enqueue("complete_item", user.user_id, target, tip.id, job_id=f"complete:{tip.id}")
    return Reaction(
        tip=tip, action=action, dwell_ms=dwell_ms, dwell_source=dwell_source, reward=reward
    )


@dataclass(frozen=True)
class KindReward:
    """Rewards of served tips of one kind, written by one model and prompt ("" for tasks)."""

    kind: str
    model: str
    prompt_version: str
    served: int
    reacted: int
    mean_reward: float | None


async def rewards_by_kind(since: datetime, limit: int = 100_000) -> list[KindReward]:
    """Reward per tip kind (and writer) of tips served since a time, most served first."""
    rows = (
        await ServedTip.select(ServedTip.kind, ServedTip.reward, ServedTip.detail)
        .where(ServedTip.served_at >= since)
        .limit(limit)
        .output(load_json=True)
    )
    groups: dict[tuple[str, str, str], list[float | None]] = {}
    for r in rows:
        detail = json_object(r["detail"])
        group = (r["kind"], str(detail.get("model") or ""), str(detail.get("prompt_version") or ""))
        groups.setdefault(group, []).append(r["reward"])
    out = []
    for (kind, model, version), rewards in groups.items():
        got = [float(x) for x in rewards if x is not None]
        out.append(
            KindReward(
                kind=kind,
                model=model,
                prompt_version=version,
                served=len(rewards),
                reacted=len(got),
                mean_reward=round(sum(got) / len(got), 4) if got else None,
            )
        )
    return sorted(out, key=lambda k: (-k.served, k.kind, k.model))
