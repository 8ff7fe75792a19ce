"""Connecting and disconnecting a source, end to end: the first sync after every connection,
and nothing of a disconnected source left behind in Redis."""

from __future__ import annotations

import secrets

from backend.integrations import connect, gcal
from backend.integrations.service import ITEM_SOURCES, cache_keys
from backend.queue import enqueue
from backend.redis import get_redis, key

FIRST_SYNC_TTL_S = 3600
"""How long the id of a connection's first sync job is kept (tests and pages look it up)."""


def _first_sync_key(user_id: str, source: str) -> str:
    return key("first-sync", user_id, source)


async def start_first_sync(user_id: str, source: str) -> str:
    """Queue the sync that follows a (re)connection; returns its job id.

    Each connection gets its own job id: arq refuses a job id whose result it still keeps (an
    hour), so a fixed id would silently skip the sync of a reconnection within that hour.
    """
    job_id = f"sync:{user_id}:{source}:first:{secrets.token_hex(6)}"
    await get_redis().set(_first_sync_key(user_id, source), job_id, ex=FIRST_SYNC_TTL_S)
    await enqueue("sync_source", user_id, source, job_id=job_id)
    return job_id


async def first_sync_job(user_id: str, source: str) -> str | None:
    """The job id of the latest connection's first sync (None: none in the last hour)."""
    found = await get_redis().get(_first_sync_key(user_id, source))
    return str(found) if found else None


async def disconnect(user_id: str, source: str) -> None:
    """Revoke at the provider, forget the tokens, and drop every cached copy of the source's
    items (the fresh cache and the day-long last-known copy hold task titles) and context."""
    await connect.disconnect(user_id, source)
    keys = [_first_sync_key(user_id, source)]
    if source in ITEM_SOURCES:
        keys.extend(cache_keys(user_id, source))
    if source == gcal.PROVIDER:
        keys.append(key("calendar", user_id))
    await get_redis().delete(*keys)
