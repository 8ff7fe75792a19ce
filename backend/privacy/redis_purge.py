"""Removing a person from Redis: keys, members, stream entries and queued arq jobs.

Rule: anything under this deployment's prefix that names one of the person's ids (their user id,
or the id of one of their rows, e.g. a served tip) in its key, its value, a member, a field or a
stream entry is theirs. Matching is on whole UUIDs, so it never hits someone else's data by
accident. arq keeps job payloads outside our prefix (`arq:job:…`, `arq:result:…`); those are
matched on the ids inside the pickled payload and removed together with their queue entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis

from backend.queue import queue_name
from backend.redis import redis_url
from backend.settings import get_settings

_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_BATCH = 200
_ERRORS = "surrogateescape"


@dataclass
class RedisPurge:
    """What was removed from Redis."""

    keys: int = 0
    members: int = 0
    stream_entries: int = 0
    jobs: int = 0


def id_set(ids: Iterable[str]) -> frozenset[bytes]:
    """The UUID-shaped ids, normalised for matching (others cannot be matched safely)."""
    return frozenset(i.lower().encode() for i in ids if _UUID.fullmatch(i.encode()))


def mentions(data: bytes | str, ids: frozenset[bytes]) -> bool:
    """True when `data` contains one of `ids` as a whole UUID."""
    raw = data.encode("utf-8", _ERRORS) if isinstance(data, str) else data
    return any(m.lower() in ids for m in _UUID.findall(raw))


def _client() -> Redis:
    # arq payloads are pickles and other values need not be UTF-8: surrogateescape carries any
    # byte through str and back unchanged, so matching and deleting work on every value.
    client: Redis = Redis.from_url(redis_url(), decode_responses=True, encoding_errors=_ERRORS)
    return client


async def purge_redis(ids: Iterable[str]) -> RedisPurge:
    """Remove every trace of `ids` from Redis (see the module docstring for the rule)."""
    wanted = id_set(ids)
    report = RedisPurge()
    if not wanted:
        return report
    redis = _client()
    try:
        prefix = get_settings().redis_prefix
        # Jobs first: the queue (a zset under our prefix) still names them.
        await _purge_jobs(redis, wanted, report)
        names = [n async for n in redis.scan_iter(match=prefix + "*", count=1000)]
        for start in range(0, len(names), _BATCH):
            await _purge_batch(redis, names[start : start + _BATCH], wanted, report)
    finally:
        await redis.aclose()
    return report


async def _purge_batch(
    redis: Redis, names: list[str], wanted: frozenset[bytes], report: RedisPurge
) -> None:
    doomed = [n for n in names if mentions(n, wanted)]
    rest = [n for n in names if not mentions(n, wanted)]
    async with redis.pipeline(transaction=False) as pipe:
        for name in rest:
            pipe.type(name)
        types = await pipe.execute()
    strings = [n for n, kind in zip(rest, types, strict=True) if kind == "string"]
    for name, value in zip(strings, await _get_many(redis, strings), strict=True):
        if value is not None and mentions(value, wanted):
            doomed.append(name)
    for name, kind in zip(rest, types, strict=True):
        if kind == "set":
            members = [m async for m in redis.sscan_iter(name) if mentions(m, wanted)]
            if members:
                report.members += int(await redis.srem(name, *members))  # type: ignore[misc]
        elif kind == "zset":
            members = [m async for m, _ in redis.zscan_iter(name) if mentions(m, wanted)]
            if members:
                report.members += int(await redis.zrem(name, *members))
        elif kind == "hash":
            fields = [
                f
                async for f, v in redis.hscan_iter(name)
                if mentions(f, wanted) or mentions(v, wanted)
            ]
            if fields:
                report.members += int(await redis.hdel(name, *fields))  # type: ignore[misc]
        elif kind == "list":
            for value in set(await redis.lrange(name, 0, -1)):  # type: ignore[misc]
                if mentions(value, wanted):
                    report.members += int(await redis.lrem(name, 0, value))  # type: ignore[misc]
        elif kind == "stream":
            report.stream_entries += await _purge_stream(redis, name, wanted)
    if doomed:
        report.keys += int(await redis.delete(*doomed))


async def _purge_stream(redis: Redis, name: str, wanted: frozenset[bytes]) -> int:
    removed = 0
    start = "-"
    while True:
        rows = await redis.xrange(name, min=start, count=500)
        if not rows:
            return removed
        hits = [
            entry_id
            for entry_id, fields in rows
            if any(mentions(v, wanted) or mentions(k, wanted) for k, v in fields.items())
        ]
        if hits:
            removed += int(await redis.xdel(name, *hits))
        start = "(" + rows[-1][0]
        if len(rows) < 500:
            return removed


async def _get_many(redis: Redis, names: list[str]) -> list[str | None]:
    """GET in pipelined batches: one round trip per batch, not per key."""
    values: list[str | None] = []
    for start in range(0, len(names), _BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for name in names[start : start + _BATCH]:
                pipe.get(name)
            values.extend(await pipe.execute())
    return values


async def _purge_jobs(redis: Redis, wanted: frozenset[bytes], report: RedisPurge) -> None:
    """Queued (or running) and finished arq jobs whose id or arguments name the person.

    Job payloads live outside our prefix (`arq:job:<id>`) but our queue names every job of
    this deployment; results (`arq:result:<id>`) have no index, so those are scanned.
    """
    queue = queue_name()
    job_ids = [m async for m, _ in redis.zscan_iter(queue)]
    payloads = await _get_many(redis, [f"arq:job:{j}" for j in job_ids])
    doomed = [
        j
        for j, payload in zip(job_ids, payloads, strict=True)
        if mentions(j, wanted) or (payload is not None and mentions(payload, wanted))
    ]
    if doomed:
        # Out of the queue as well, or a worker would find the entry and log it as expired.
        await redis.zrem(queue, *doomed)
        await redis.delete(*(f"arq:{kind}:{j}" for j in doomed for kind in ("job", "retry")))
        report.jobs += len(doomed)
    results = [n async for n in redis.scan_iter(match="arq:result:*", count=1000)]
    values = await _get_many(redis, results)
    finished = [
        name
        for name, value in zip(results, values, strict=True)
        if mentions(name, wanted) or (value is not None and mentions(value, wanted))
    ]
    if finished:
        await redis.delete(*finished)
