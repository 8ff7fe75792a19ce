"""What the rest of oO asks of integrations: a person's open items, calendar context, closing one.

Items are cached per (person, source) in Redis: a fresh copy (OO_TASK_CACHE_TTL, 30 s) and a
last-known copy (a day). On a cold cache one bounded fetch is made; when it fails or is slow the
last-known copy is served, so a provider outage never blanks the tip page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import UTC, datetime

import msgspec
from redis.exceptions import RedisError

from backend.contracts.candidate import Candidate
from backend.events.bus import publish
from backend.events.contracts import TasksSynced
from backend.integrations import completions, gcal, status, todoist
from backend.integrations.demo import DemoSource
from backend.integrations.errors import NeedsReconnect, RateLimited, SourceError
from backend.integrations.history import users_completed_since as users_completed_since
from backend.integrations.sources import get_source, register_source, source_name
from backend.integrations.status import sources_by_person as sources_by_person
from backend.integrations.todoist import TodoistSource
from backend.integrations.webhook_source import WebhookSource
from backend.redis import cache_get, get_redis, key, read_many
from backend.settings import get_settings

log = logging.getLogger("oo.integrations")

register_source(DemoSource())
register_source(TodoistSource())
register_source(WebhookSource())

ITEM_SOURCES = ("demo", "todoist", "webhook")
KNOWN_TTL_S = 24 * 3600
COLD_FETCH_TIMEOUT_S = 2.0

_decoder = msgspec.json.Decoder(list[Candidate])

MAX_DECODED_ITEMS = 100_000
"""Items kept decoded in this process, over all (person, source) lists (see `_decoded`): a few
hundred kB per 1,000 items, the least recently read lists dropped first."""

_DECODED: OrderedDict[tuple[str, str], tuple[str | bytes, list[Candidate]]] = OrderedDict()
_decoded_items = 0


def _decoded(user_id: str, source: str, data: str | bytes) -> list[Candidate]:
    """The items of one cached copy, decoded once per copy: while a source has not synced, every
    pick gets the same objects back (the recommender keeps per-list work by their identity,
    backend/recommender/candidate_columns.py). Comparing the copy costs far less than decoding
    2,000 tasks again."""
    key = (user_id, source)
    found = _DECODED.get(key)
    if found is not None and found[0] == data:
        _DECODED.move_to_end(key)
        return found[1]
    items = _decoder.decode(data)
    _keep_decoded(user_id, source, data, items)
    return items


def _keep_decoded(user_id: str, source: str, data: str | bytes, items: list[Candidate]) -> None:
    global _decoded_items
    _forget_decoded(user_id, source)
    if len(items) > MAX_DECODED_ITEMS:
        return
    _DECODED[(user_id, source)] = (data, items)
    _decoded_items += len(items)
    while _decoded_items > MAX_DECODED_ITEMS:
        _, (_, dropped) = _DECODED.popitem(last=False)
        _decoded_items -= len(dropped)


def _forget_decoded(user_id: str, source: str) -> None:
    global _decoded_items
    found = _DECODED.pop((user_id, source), None)
    if found is not None:
        _decoded_items -= len(found[1])


def _fresh_key(user_id: str, source: str) -> str:
    return key("tasks", user_id, source)


def _known_key(user_id: str, source: str) -> str:
    return key("tasks-known", user_id, source)


async def _sources_of(user_id: str) -> list[str]:
    connected = set(await status.connected_sources(user_id))
    # The demo and webhook sources need no connection row: they answer with nothing if unused.
    return [s for s in ITEM_SOURCES if s in connected or s in ("demo", "webhook")]


async def _remember(user_id: str, source: str, items: list[Candidate]) -> None:
    data = msgspec.json.encode(items)
    redis = get_redis()
    with contextlib.suppress(RedisError):  # Redis away: items are read from the source again
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(_fresh_key(user_id, source), data, ex=get_settings().task_cache_ttl_s)
            pipe.set(_known_key(user_id, source), data, ex=KNOWN_TTL_S)
            await pipe.execute()
    _keep_decoded(user_id, source, data.decode(), items)  # as the next read will return it


async def open_items(user_id: str) -> list[Candidate]:
    """Open items from every source of the person, through the cache.

    While Redis is away each source is read directly; a source that needs Redis itself (the
    webhook's items, a token refresh's lock) contributes nothing until it is back.
    """
    sources = await _sources_of(user_id)
    try:
        fresh = await read_many([_fresh_key(user_id, s) for s in sources])
    except RedisError:
        fresh = [None] * len(sources)
    items: list[Candidate] = []
    for source, cached in zip(sources, fresh, strict=True):
        if cached is not None:
            items.extend(_decoded(user_id, source, cached))
            continue
        try:
            got = await asyncio.wait_for(
                get_source(source).list_items(user_id), COLD_FETCH_TIMEOUT_S
            )
        except (SourceError, TimeoutError, RedisError) as err:
            log.info("serving last-known %s items: %s", source, type(err).__name__)
            known = await cache_get(_known_key(user_id, source))
            items.extend(_decoder.decode(known) if known else [])
            continue
        await _remember(user_id, source, got)
        items.extend(got)
    return items


def read_ahead_keys(user_id: str) -> list[str]:
    """What a pick reads of this domain's cache: every source's task list, the calendar."""
    return [*(_fresh_key(user_id, s) for s in ITEM_SOURCES), key("calendar", user_id)]


async def known_item(user_id: str, source: str, item_ref: str) -> Candidate | None:
    """The last-known copy of one item (e.g. to name the project of a task just completed)."""
    known = await get_redis().get(_known_key(user_id, source))
    items = _decoder.decode(known) if known else []
    return next((c for c in items if c.item_ref == item_ref), None)


def cache_keys(user_id: str, source: str) -> list[str]:
    """Every Redis key holding a copy of one source's items for the person."""
    return [_fresh_key(user_id, source), _known_key(user_id, source)]


async def forget_items(user_id: str, source: str | None = None) -> None:
    """Drop the fresh cache so the next read goes to the source(s)."""
    sources = [source] if source else list(ITEM_SOURCES)
    for s in sources:
        _forget_decoded(user_id, s)
    await get_redis().delete(*[_fresh_key(user_id, s) for s in sources])


async def sync(user_id: str, source: str) -> int:
    """Refresh one source now: items into the cache (Todoist: new completions into the
    history, see completions.py), status, `signals.task.synced`.

    Raises RateLimited for the caller to retry later; other failures are recorded in the
    integration's status (after OO_SYNC_MAX_FAILURES it "needs attention") and re-raised.
    """
    started = datetime.now(UTC)
    try:
        if source == gcal.PROVIDER:
            events = await gcal.fetch_events(user_id, started)
            await _remember_context(user_id, gcal.compute_context(events, started))
            count = len(events)
        elif source == todoist.PROVIDER:
            # One client for both reads: its project names are fetched once per sync.
            async with todoist.TodoistClient(user_id) as client:
                count = await _refresh_items(user_id, source, await client.open_tasks())
                await completions.sync_todoist(user_id, client, started)
        else:
            count = await _refresh_items(
                user_id, source, await get_source(source).list_items(user_id)
            )
    except NeedsReconnect as err:
        await status.mark_failed(user_id, source, err.reason, reconnect=True)
        raise
    except RateLimited as err:
        await status.mark_failed(user_id, source, err.reason)
        raise
    except SourceError as err:
        await status.mark_failed(user_id, source, err.reason)
        raise
    await status.mark_synced(user_id, source, count)
    await publish(
        user_id,
        TasksSynced(
            source=source,
            items=count,
            duration_ms=round((datetime.now(UTC) - started).total_seconds() * 1000, 1),
        ),
    )
    return count


async def _refresh_items(user_id: str, source: str, items: list[Candidate]) -> int:
    """Cache freshly read items; returns how many."""
    await _remember(user_id, source, items)
    return len(items)


async def _remember_context(user_id: str, context: gcal.CalendarContext) -> None:
    await get_redis().set(
        key("calendar", user_id),
        msgspec.json.encode(context),
        ex=get_settings().task_cache_ttl_s * 10,
    )


async def calendar_context(user_id: str) -> gcal.CalendarContext | None:
    """The cached calendar context (None when no calendar is connected or nothing is known)."""
    raw = await cache_get(key("calendar", user_id))
    return msgspec.json.decode(raw, type=gcal.CalendarContext) if raw else None


def fits_calendar(
    candidate: Candidate, context: gcal.CalendarContext | None, now: datetime
) -> bool:
    """A task with a duration is not served when it cannot finish before the next event."""
    if context is None:
        return True
    duration = candidate.duration_min
    if duration is None or duration <= 0:
        return True
    free = context.free_block_minutes(now)
    return free is None or duration <= free


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
    await forget_items(user_id, source_name(item_ref))
    return closed
