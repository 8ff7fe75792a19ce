"""A person's completion habits for the hot path: counted from their app's completions, with
their own choice model fitted on the same completions (history_fit.py), kept in Redis for a
while (habits move slowly; one completion more changes a lift by a hair)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import msgspec

from backend.contracts.sources import completions_since
from backend.recommender.habits import HABIT_DAYS, Completion, Habits
from backend.recommender.history_fit import fit_choices
from backend.redis import cache_get, cache_set, get_redis, key

TTL_S = 15 * 60
"""How long counted habits are reused before the completions are read again."""


def habits_key(user_id: str) -> str:
    """The Redis key of a person's counted habits (read ahead with the serve lock)."""
    return key("habits", user_id)


_key = habits_key


async def habits_of(user_id: str, timezone: str, now: datetime) -> Habits:
    """The person's habits over the last HABIT_DAYS: cached, else counted (one query)."""
    raw = await cache_get(_key(user_id))
    if raw:
        return msgspec.json.decode(raw, type=Habits)
    records = await completions_since([user_id], now - timedelta(days=HABIT_DAYS))
    done = [
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
    habits = replace(Habits.from_completions(done, timezone), choice=fit_choices(done, timezone))
    await cache_set(_key(user_id), msgspec.json.encode(habits), TTL_S)
    return habits


async def forget_habits(user_id: str) -> None:
    """Drop the cached habits (their completions were deleted): the next tip counts again."""
    await get_redis().delete(_key(user_id))
