"""Serve a tip of a chosen kind to a person directly in the decision log (tests that need a
given kind on screen without steering the policy)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from backend.recommender import tip_cache
from backend.recommender.tables import ServedTip

CONTENT = {
    "task": "Call the dentist",
    "advice": "Take a short walk before the next long task.",
    "insight": "You finish most things before noon.",
    "reminder": "Water the plants.",
}


async def serve_kind(
    user_id: str, kind: str, content: str | None = None, drop_cached: bool = True
) -> str:
    """Log a served, unanswered tip of `kind` for the person; return its id.

    `drop_cached=False` for a person never served before (nothing cached) from code that runs
    each call on a fresh event loop, where the shared Redis client cannot be used."""
    tip_id = str(uuid.uuid4())
    await ServedTip(
        id=tip_id,
        user=user_id,
        item_ref=f"test:{kind}:{tip_id[:8]}",
        source="test",
        kind=kind,
        content=content or CONTENT[kind],
        candidate_count=1,
        policy_id="random",
        policy_version="1",
        score=0.0,
        propensity=1.0,
        latency_ms=0.1,
        served_at=datetime.now(UTC),
    ).save()
    if drop_cached:
        await tip_cache.drop(user_id)  # the cached tip (if any) is no longer the one on screen
    return tip_id
