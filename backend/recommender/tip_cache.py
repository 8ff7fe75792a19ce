"""The current tip of each person, cached in Redis: the hot path's one read when nothing changed.

Written when the current tip is read from the database, dropped after any reaction commits (a
tap, a delayed reward from the source) and when a reaction finds the tip already answered. The
TTL is the tip's remaining validity capped at MAX_TTL_S: a read racing a reaction in another
process could re-cache an answered tip, and the cap bounds how long that can show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend import request_round
from backend.redis import cache_get, cache_set, get_redis, key


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
    explanation: dict[str, Any] = field(default_factory=dict)
    """Why it was picked (policy, score, top features, explored, line); see explain.py."""


MAX_TTL_S = 60


def _key(user_id: str) -> str:
    return key("current-tip", user_id)


def key_head() -> str:
    """The key of a person's cached tip, without their id (read ahead with the limits: a
    `tip` query's GET is then part of the request's one round trip, ADR 0030)."""
    return _key("")


async def get(user_id: str) -> TipView | None:
    """The cached current tip, if any (None while Redis is away: the database answers)."""
    raw = await cache_get(_key(user_id))
    return msgspec.json.decode(raw, type=TipView) if raw else None


def entry(
    user_id: str, tip: TipView, valid_for: timedelta, now: datetime
) -> tuple[str, bytes, int] | None:
    """(key, value, TTL) to cache the tip under until it stops being valid; None: not valid."""
    remaining = min(MAX_TTL_S, int((tip.served_at + valid_for - now).total_seconds()))
    return (_key(user_id), msgspec.json.encode(tip), remaining) if remaining > 0 else None


async def put(user_id: str, tip: TipView, valid_for: timedelta, now: datetime) -> None:
    """Cache the tip until it stops being valid (skipped while Redis is away)."""
    found = entry(user_id, tip, valid_for, now)
    if found is not None:
        await cache_set(*found)


async def drop(user_id: str) -> None:
    """Forget the cached tip (call after the reaction's transaction commits)."""
    request_round.forget(_key(user_id))
    await get_redis().delete(_key(user_id))
