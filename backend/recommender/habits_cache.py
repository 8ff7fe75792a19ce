"""A person's completion habits for the hot path: counted from their app's completions, with
their own choice model fitted on the same completions (history_fit.py), kept in Redis for a
while (habits move slowly; one completion more changes a lift by a hair).

Counting is cheap and happens on the pick that finds the cache empty. The choice model is not:
its fit grows faster than linearly with the history (about 9 ms for 50 completions, 75 ms for
200 and a second for 600 on a loaded 2-core machine), so it is fitted by a worker job
(`fit_choice_model`) and kept under its own key for a day; a pick only reads it, and asks for a
refit when the kept one is older than TTL_S. Until the first fit lands, habit_choice is 0 (no
opinion), as for a person with too short a history."""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from datetime import datetime, timedelta

import msgspec
from redis.exceptions import RedisError

from backend.contracts.sources import completions_since
from backend.queue import enqueue
from backend.recommender.choice_model import ChoiceModel
from backend.recommender.habits import HABIT_DAYS, Completion, Habits
from backend.recommender.history_fit import fit_choices, mark_prompted
from backend.recommender.tables import ServedTip
from backend.redis import cache_get, cache_set, get_redis, key

TTL_S = 15 * 60
"""How long counted habits are reused before the completions are read again (and how old a
kept choice model may be before a pick asks for a refit)."""

CHOICE_KEEP_S = 24 * 3600
"""How long a fitted choice model is kept: a day-old model beats none while a refit waits."""

FIT_JOB = "fit_choice_model"


class KeptChoice(msgspec.Struct, frozen=True):
    """A fitted choice model (None: the history was too short) and when it was fitted."""

    fitted_at: float
    model: ChoiceModel | None


def habits_key(user_id: str) -> str:
    """The Redis key of a person's counted habits (read ahead with the serve lock)."""
    return key("habits", user_id)


_key = habits_key


async def habits_of(user_id: str, timezone: str, now: datetime) -> Habits:
    """The person's habits over the last HABIT_DAYS: cached, else counted (one query)."""
    raw = await cache_get(_key(user_id))
    if raw:
        return msgspec.json.decode(raw, type=Habits)
    done = await _completions(user_id, now)
    kept = await _kept_choice(user_id)
    if kept is None or time.time() - kept.fitted_at > TTL_S:
        # One job per person per quarter hour, whichever process asks first.
        slot = int(time.time()) // TTL_S
        # Redis away: no refit asked (the next pick after it returns asks); the tip is served.
        with contextlib.suppress(RedisError):
            await enqueue(FIT_JOB, user_id, timezone, job_id=f"choice-fit:{user_id}:{slot}")
    habits = replace(
        Habits.from_completions(done, timezone), choice=kept.model if kept is not None else None
    )
    await cache_set(_key(user_id), msgspec.json.encode(habits), TTL_S)
    return habits


async def fit_and_keep(user_id: str, timezone: str, now: datetime) -> bool:
    """Fit the person's choice model on their history and keep it (the worker's job). Counted
    habits still cached get the new model in place, keeping their expiry: the next pick
    carries it without counting again. True if fitted."""
    done = mark_prompted(await _completions(user_id, now), await _tips_done(user_id, now))
    model = fit_choices(done, timezone)
    kept = KeptChoice(fitted_at=time.time(), model=model)
    await cache_set(choice_key(user_id), msgspec.json.encode(kept), CHOICE_KEEP_S)
    raw = await get_redis().get(_key(user_id))
    if raw:
        habits = replace(msgspec.json.decode(raw, type=Habits), choice=model)
        # XX: only if still there (a deletion may have dropped it meanwhile).
        await get_redis().set(_key(user_id), msgspec.json.encode(habits), keepttl=True, xx=True)
    return model is not None


def choice_key(user_id: str) -> str:
    """The Redis key of a person's kept choice model."""
    return key("choice-model", user_id)


async def _kept_choice(user_id: str) -> KeptChoice | None:
    raw = await cache_get(choice_key(user_id))
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw, type=KeptChoice)
    except msgspec.DecodeError:  # written by another version: refit
        return None


async def _completions(user_id: str, now: datetime) -> list[Completion]:
    records = await completions_since([user_id], now - timedelta(days=HABIT_DAYS))
    return [
        Completion(
            at=r.at,
            project=r.project,
            due_date=r.due_date,
            item_ref=r.item_ref,
            priority=r.priority,
            added_at=r.added_at,
            recurring=r.recurring,
        )
        for r in records
    ]


async def _tips_done(user_id: str, now: datetime) -> list[tuple[str, datetime]]:
    """The person's tips answered done over the history's span: (item ref, when answered)."""
    rows = await ServedTip.select(ServedTip.item_ref, ServedTip.reacted_at).where(
        (ServedTip.user == user_id)
        & (ServedTip.reaction == "done")
        & (ServedTip.reacted_at >= now - timedelta(days=HABIT_DAYS))
    )
    return [(str(r["item_ref"]), r["reacted_at"]) for r in rows if r["reacted_at"] is not None]


async def forget_habits(user_id: str) -> None:
    """Drop the cached habits and choice model (their completions were deleted): the next tip
    counts again, and the model is fitted again from what is left."""
    await get_redis().delete(_key(user_id), choice_key(user_id))
