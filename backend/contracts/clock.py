"""A person's local time (one helper: the recommender's features and the LLM's context)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(now: datetime, timezone: str) -> datetime:
    """`now` in the person's zone; `now` unchanged when the zone is unknown or malformed."""
    try:
        return now.astimezone(ZoneInfo(timezone))
    except (KeyError, ValueError):
        return now
