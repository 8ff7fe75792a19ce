"""What the rest of oO asks of integrations: a person's open items, and closing one."""

from __future__ import annotations

import msgspec

from backend.integrations.demo import DemoSource
from backend.integrations.sources import all_sources, get_source, register_source, source_name
from backend.recommender.features import Candidate
from backend.redis import get_redis, key
from backend.settings import get_settings

register_source(DemoSource())

_decoder = msgspec.json.Decoder(list[Candidate])


def _cache_key(user_id: str) -> str:
    return key("tasks", user_id)


async def open_items(user_id: str) -> list[Candidate]:
    """Open items from every source, through the short-lived Redis task cache."""
    redis = get_redis()
    cached = await redis.get(_cache_key(user_id))
    if cached is not None:
        return _decoder.decode(cached)
    items: list[Candidate] = []
    for source in all_sources():
        items.extend(await source.list_items(user_id))
    await redis.set(
        _cache_key(user_id), msgspec.json.encode(items), ex=get_settings().task_cache_ttl_s
    )
    return items


async def forget_items(user_id: str) -> None:
    """Drop the cached items so the next read goes to the sources."""
    await get_redis().delete(_cache_key(user_id))


async def complete_item(user_id: str, item_ref: str, once_key: str) -> bool:
    """Close an item at its source exactly once per `once_key` (e.g. the tip id).

    Returns True when this call closed it, False when it was already done (a retry or a
    duplicate job). The marker is set before the call and removed if the call fails, so a
    failed attempt can be retried.
    """
    redis = get_redis()
    marker = key("completed", once_key)
    if not await redis.set(marker, item_ref, nx=True, ex=7 * 24 * 3600):
        return False
    try:
        closed = await get_source(source_name(item_ref)).complete(user_id, item_ref)
    except Exception:
        await redis.delete(marker)
        raise
    await forget_items(user_id)
    return closed
