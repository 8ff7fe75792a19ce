"""Serving one tip and learning from the reaction (DESIGN.md §3, the hot path: no LLM here)."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from backend.contracts.errors import Refused
from backend.contracts.json import json_object
from backend.contracts.principal import Principal
from backend.contracts.sources import read_ahead_keys
from backend.db import write_transaction
from backend.events.contracts import TipFeedback, TipServed
from backend.recommender import answers, outbox, reaction_write, tip_cache
from backend.recommender.decisions import TipAlreadyServed, display_detail, pick
from backend.recommender.habits_cache import (  # re-exported: privacy drops it with the data
    forget_habits as forget_habits,
)
from backend.recommender.habits_cache import habits_key
from backend.recommender.kind_rewards import KindReward as KindReward  # llm's console reads
from backend.recommender.kind_rewards import rewards_by_kind as rewards_by_kind
from backend.recommender.learning import updated_states
from backend.recommender.reward import EFFECT, MAX_DWELL_MS, Action, infer_reward
from backend.recommender.rows_insert import RowsInsert
from backend.recommender.serve_lock import serve_lock
from backend.recommender.state import remember_learned, states_upsert
from backend.recommender.tables import Feedback, Outbox, ServedTip, Snooze
from backend.recommender.tip_cache import TipView as TipView  # pages and GraphQL read it here
from backend.settings import get_settings

log = logging.getLogger("oo.recommender")


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


def _valid_after(now: datetime) -> datetime:
    return now - timedelta(seconds=get_settings().tip_valid_s)


async def _stored_tip(user_id: str, now: datetime) -> TipView | None:
    """The unanswered tip still valid, from the database (one query)."""
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
            & (ServedTip.served_at > _valid_after(now))
        )
        .order_by(ServedTip.served_at, ascending=False)
        .output(load_json=True)
        .first()
    )
    return _view(row) if row is not None else None


async def _stable_tip(user_id: str, now: datetime) -> TipView | None:
    cached = await tip_cache.get(user_id)
    if cached is not None and cached.served_at > _valid_after(now):
        return cached
    tip = await _stored_tip(user_id, now)
    if tip is not None:
        await tip_cache.put(user_id, tip, timedelta(seconds=get_settings().tip_valid_s), now)
    return tip


async def shown_tip(user_id: str) -> TipView | None:
    """The tip the person has on screen now, if any — read only (never picks or serves one,
    unlike current_tip): for the console."""
    valid_after = datetime.now(UTC) - timedelta(seconds=get_settings().tip_valid_s)
    row = (
        await ServedTip.select()
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


async def current_tip(user: Principal, after_reaction: bool = False) -> TipView | None:
    """The one tip for now: the unanswered one still valid, else a fresh pick (None: nothing).

    `after_reaction`: the cached tip was just dropped by this request's reaction, so the
    lock is taken at once (the database is read under it either way)."""
    now = datetime.now(UTC)
    if not after_reaction:
        tip = await _stable_tip(user.user_id, now)
        if tip is not None:
            return tip
    # One pick at a time per user, so two tabs loading at once do not serve two tips. The
    # lock's round trip also reads what the pick will read of Redis (ADR 0041).
    ahead = [*read_ahead_keys(user.user_id), habits_key(user.user_id)]
    event: TipServed | None = None
    async with serve_lock(user.user_id, ahead) as held:
        try:  # under the lock the database decides: a tip served meanwhile is shown
            tip, event = await _pick(user, now)
        except TipAlreadyServed:  # (or the recent log could not tell: then the query does)
            tip = await _stored_tip(user.user_id, now)
            if tip is None:
                tip, event = await _pick(user, now, check=False)
        if tip is not None:
            valid_for = timedelta(seconds=get_settings().tip_valid_s)
            cached = tip_cache.entry(user.user_id, tip, valid_for, now)
            if cached is not None:
                held.cache_on_release(*cached)  # the next `tip` is a cache hit
    if event is not None:
        await outbox.publish_or_keep(user.user_id, event)
    return tip


async def next_tip_or_none(user: Principal) -> TipView | None:
    """The tip after a stored reaction, best-effort: the reaction is the answer, and a failure
    to pick the next one (Redis or the database away for a moment) must not hide that it was
    stored. The page or client asks for the tip again later."""
    try:
        return await current_tip(user, after_reaction=True)
    except Exception as err:
        log.warning("next tip not picked after a reaction: %s", type(err).__name__)
        return None


async def _pick(
    user: Principal, now: datetime, check: bool = True
) -> tuple[TipView | None, TipServed | None]:
    served = await pick(user, now, unless_served_after=_valid_after(now) if check else None)
    if served is None:
        return None, None
    chosen, decision, policy = served.candidate, served.decision, served.policy
    event = TipServed(
        tip_id=served.tip_id,
        item_ref=chosen.item_ref,
        source=chosen.source,
        kind=chosen.kind,
        policy_id=served.policy_id or policy.id,
        policy_version=served.policy_version or policy.version,
        propensity=decision.propensity,
        candidate_count=served.candidate_count,
        latency_ms=round(served.latency_ms, 3),
        model=chosen.written.model if chosen.written else "",
        prompt_version=chosen.written.prompt_version if chosen.written else "",
        served_at=now.isoformat(),
        content=chosen.content,
        project=chosen.project,
        due_date=chosen.due_date.isoformat() if chosen.due_date else "",
    )
    view = TipView(
        id=served.tip_id,
        content=chosen.content,
        kind=chosen.kind,
        source=chosen.source,
        item_ref=chosen.item_ref,
        served_at=now,
        detail=display_detail(chosen, served.features, served.phrasing),
        explanation=served.explanation,
    )
    return view, event


def _parse_tip_id(tip_id: str) -> str:
    try:
        return str(uuid.UUID(tip_id))
    except (ValueError, AttributeError):
        raise ReactionError("NOT_FOUND", "No such tip.", "tipId") from None


async def react(
    user: Principal,
    tip_id: str,
    action: Action,
    dwell_ms: int | None,
    request_id: str | None = None,
) -> Reaction:
    """Record a reaction once, reward it, and update the policy in the same transaction.

    The stored reaction is the answer: its event and the source close are written to the
    outbox in the same transaction and sent after it (backend/recommender/outbox.py), so
    nothing after the commit can turn a stored reaction into a reported failure. A retry with
    the same `request_id` returns the stored answer instead of ALREADY_REACTED.
    """
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
            effect = EFFECT[action]
            dwell_source = "client" if dwell_ms is not None else "server"
            reward = infer_reward(action, dwell_ms) if dwell_ms is not None else None
            row = await reaction_write.claim(tid, user.user_id, now, effect.value, reward)
            if row is None:
                raise await _unclaimed(tid, user.user_id)
            not_for_kind = answers.refusal(row["kind"], action)
            if not_for_kind:  # raised inside the transaction: the claim is rolled back
                raise ReactionError("ANSWER_NOT_FOR_KIND", not_for_kind, "action")
            writes: list[reaction_write.Write] = []
            if dwell_ms is None:
                elapsed = int((now - row["served_at"]).total_seconds() * 1000)
                dwell_ms = max(0, min(elapsed, MAX_DWELL_MS))
                reward = infer_reward(action, dwell_ms)
                writes.append(reaction_write.reward_update(tid, reward))
            assert reward is not None
            feedback = Feedback(
                tip=tid,
                user=user.user_id,
                action=effect.value,
                answer=action.value,
                dwell_ms=dwell_ms,
                dwell_source=dwell_source,
                reward=reward,
                created_at=now,
                request_id=request_id,
            )
            writes.append(RowsInsert.of([feedback]))
            if effect is not Action.DONE:
                hide_s = (
                    get_settings().snooze_s if effect is Action.SNOOZE else get_settings().dismiss_s
                )
                snooze = Snooze(
                    user=user.user_id,
                    item_ref=row["item_ref"],
                    until=now + timedelta(seconds=hide_s),
                    reason=effect.value,
                )
                writes.append(RowsInsert.of([snooze]))
            # The claim took the learning lock (PostgreSQL; SQLite's writer lock serialises).
            new, stored = await updated_states(user.user_id, user.timezone, row, reward)
            upsert, learned = states_upsert(user.user_id, new, stored)
            if upsert is not None:
                writes.append(upsert)
            tip = _view(row)
            effects = _side_effects(user.user_id, tip, action, dwell_ms, dwell_source, reward, now)
            writes.append(RowsInsert.of(effects))
            await reaction_write.write(writes)
    except ReactionError as err:
        if err.code != "ALREADY_REACTED":
            raise
        await _forget_cached_tip(user.user_id)  # whatever cached it is out of date
        return await _stored_answer(user.user_id, tid, request_id, err)
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
        await _forget_cached_tip(user.user_id)
        refused = ReactionError("ALREADY_REACTED", "This tip already has a reaction.", "tipId")
        return await _stored_answer(user.user_id, tid, request_id, refused)
    remember_learned(user.user_id, learned)  # committed: the next pick scores with them
    await _forget_cached_tip(user.user_id)
    await outbox.send(effects)
    return Reaction(
        tip=tip, action=action, dwell_ms=dwell_ms, dwell_source=dwell_source, reward=reward
    )


def _side_effects(
    user_id: str,
    tip: TipView,
    action: Action,
    dwell_ms: int,
    dwell_source: str,
    reward: float,
    now: datetime,
) -> list[Outbox]:
    """The reaction's event, and for "done" on a task the close at its source."""
    effects = [
        outbox.event_row(
            user_id,
            TipFeedback(
                tip_id=tip.id,
                item_ref=tip.item_ref,
                action=EFFECT[action].value,
                dwell_ms=dwell_ms,
                dwell_source=dwell_source,
                reward=reward,
                reward_source="reaction",
                reacted_at=now.isoformat(),
                answer=action.value,
            ),
        )
    ]
    if action is Action.DONE and tip.kind == "task":
        # A written task tip names the source task it is about; advice and the other kinds
        # have no side effect at the source ("done" on them is just a reward).
        target = str(tip.detail.get("task_ref") or tip.item_ref)
        effects.append(
            outbox.job_row(
                user_id, "complete_item", [user_id, target, tip.id], f"complete:{tip.id}"
            )
        )
    return effects


async def _unclaimed(tip_id: str, user_id: str) -> ReactionError:
    """Why the claim changed nothing: no such tip of the person's, or answered already."""
    row = (
        await ServedTip.select(ServedTip.id)
        .where((ServedTip.id == tip_id) & (ServedTip.user == user_id))
        .first()
    )
    if row is None:
        return ReactionError("NOT_FOUND", "No such tip.", "tipId")
    return ReactionError("ALREADY_REACTED", "This tip already has a reaction.", "tipId")


async def _forget_cached_tip(user_id: str) -> None:
    try:
        await tip_cache.drop(user_id)
    except Exception as err:  # Redis away: the cache entry expires on its own (MAX_TTL_S)
        log.warning("current tip not dropped from the cache: %s", type(err).__name__)


async def _stored_answer(
    user_id: str, tip_id: str, request_id: str | None, refused: ReactionError
) -> Reaction:
    """The stored reaction when this is a retry of the request that stored it; else `refused`."""
    if not request_id:
        raise refused
    stored = (
        await Feedback.select(
            Feedback.action,
            Feedback.answer,
            Feedback.dwell_ms,
            Feedback.dwell_source,
            Feedback.reward,
        )
        .where(
            (Feedback.tip == tip_id)
            & (Feedback.user == user_id)
            & (Feedback.request_id == request_id)
        )
        .first()
    )
    row = (
        await ServedTip.select(*reaction_write.CLAIMED)
        .where(ServedTip.id == tip_id)
        .output(load_json=True)
        .first()
        if stored
        else None
    )
    if stored is None or row is None:
        raise refused
    return Reaction(
        tip=_view(row),
        action=Action(stored["answer"] or stored["action"]),
        dwell_ms=stored["dwell_ms"],
        dwell_source=stored["dwell_source"],
        reward=round(stored["reward"], 6),  # PostgreSQL's REAL keeps ~7 digits
    )
