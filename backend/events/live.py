"""Live subscriptions that scale: one reader of the event stream per process, many subscribers.

Each process runs at most one reader (a blocking XREAD on the one stream) while anyone
subscribes; it decodes every event once and offers it to the subscribers whose filter (subjects,
person) wants it, through a bounded queue per subscriber (Hasura's multiplexing: one upstream
read, many cheap downstream filters). Redis connections therefore do not grow with subscribers.

- A slow subscriber whose queue fills up is cut off with `SubscriberTooSlow` (naming the last
  event it received, to resume from); it never slows the reader or the others.
- `after` resumes from an event id: the backlog is read with XRANGE while live events queue up,
  and live events already replayed are skipped, so there is no gap and no duplicate.
- `last` opens with (up to) the last N matching events, found walking back with XREVRANGE —
  the console's backfill — then goes on live the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field

from backend.events.bus import Event, decode_entry, stream_key
from backend.redis import get_redis

log = logging.getLogger("oo.events.live")

SUBSCRIBER_BUFFER = 1000
"""Events queued for one subscriber before it counts as too slow and is cut off. Larger than
READ_COUNT, so one read's batch never overflows a subscriber that keeps up."""

READ_BLOCK_MS = 1000
READ_COUNT = 500
REPLAY_PAGE = 500
LAST_SCAN_LIMIT = 20_000
"""How far back (in stream entries) `last` looks for matching events: a rare subject in a busy
stream may find fewer than asked, never a scan of the whole ring."""
RETRY_S = (0.1, 0.5, 1.0, 2.0)


class SubscriberTooSlow(Exception):
    """The subscriber fell more than SUBSCRIBER_BUFFER events behind and was cut off."""

    def __init__(self, last_id: str | None) -> None:
        super().__init__("This subscriber fell too far behind and was cut off.")
        self.last_id = last_id


def _id_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(eq=False)
class _Subscriber:
    subjects: tuple[str, ...] | None
    user_id: str | None
    queue: asyncio.Queue[Event | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_BUFFER)
    )
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        subjects = self.subjects or ()
        self.exact = frozenset(s for s in subjects if not s.endswith("*"))
        self.prefixes = tuple(s.rstrip("*") for s in subjects if s.endswith("*"))

    def wants(self, subject: str) -> bool:
        """Whether its subject filter takes this subject (the person was matched already)."""
        if not self.subjects:
            return True
        return subject in self.exact or subject.startswith(self.prefixes)


class Multiplexer:
    """The process's one reader and its subscribers (one per event loop)."""

    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()
        # Indexed by the person they follow (None: everyone, admins), so an event costs only
        # its own subscribers, not a pass over all of them.
        self._by_person: dict[str | None, set[_Subscriber]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._position = "$"

    @property
    def subscribers(self) -> int:
        """How many subscribers this process serves now."""
        return len(self._subscribers)

    async def _add(self, subscriber: _Subscriber) -> None:
        self._subscribers.add(subscriber)
        self._by_person.setdefault(subscriber.user_id, set()).add(subscriber)
        if self._reader is None or self._reader.done():
            # Started without awaiting anything first: concurrent subscribers share it.
            self._ready = asyncio.Event()
            self._reader = asyncio.create_task(self._read(self._ready), name="oo-events-reader")
        # Once the reader knows where it starts, every later event reaches this queue.
        await self._ready.wait()

    def _remove(self, subscriber: _Subscriber) -> None:
        self._discard(subscriber)
        if not self._subscribers and self._reader is not None:
            self._reader.cancel()  # nobody listens: release the blocking connection
            self._reader = None

    async def _read(self, ready: asyncio.Event) -> None:
        redis = get_redis()
        failures = 0
        while self._subscribers:
            try:
                if not ready.is_set():
                    # Resolve "$" once, before reading, so nothing published after is missed.
                    newest = await redis.xrevrange(stream_key(), count=1)
                    self._position = newest[0][0] if newest else "0-0"
                    ready.set()
                batches = await redis.xread(
                    {stream_key(): self._position}, block=READ_BLOCK_MS, count=READ_COUNT
                )
            except asyncio.CancelledError:
                raise
            except Exception as err:  # Redis away: keep the subscribers, try again
                delay = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
                log.warning("event reader: %s; retrying in %.1f s", type(err).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            for _stream, rows in batches or []:
                for event_id, fields in rows:
                    self._position = event_id
                    self._offer(decode_entry(event_id, fields))

    def _discard(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)
        followers = self._by_person.get(subscriber.user_id)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._by_person[subscriber.user_id]

    def _offer(self, event: Event) -> None:
        followers = [*self._by_person.get(event.user_id, ()), *self._by_person.get(None, ())]
        for subscriber in followers:
            if not subscriber.wants(event.subject):
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                # Cut it off at once: empty its queue and leave only the end marker.
                self._discard(subscriber)
                while not subscriber.queue.empty():
                    subscriber.queue.get_nowait()
                subscriber.queue.put_nowait(None)

    async def subscribe(
        self,
        subjects: Collection[str] | None = None,
        user_id: str | None = None,
        after: str | None = None,
        last_n: int | None = None,
    ) -> AsyncIterator[Event]:
        """Events wanted by this filter as they happen; after `after` (or the last `last_n`)
        first, when given."""
        subscriber = _Subscriber(tuple(subjects) if subjects else None, user_id)
        await self._add(subscriber)
        last: str | None = None
        try:
            start = f"({after}" if after and after != "$" else None
            if last_n:
                oldest = await _oldest_of_last(subscriber, last_n, after)
                start = oldest or start
            if start is not None:
                async for event in _replay(start):
                    last = event.id
                    if subscriber.user_id in (None, event.user_id) and subscriber.wants(
                        event.subject
                    ):
                        yield event
            replayed = _id_key(last) if last else None
            while True:
                live = await subscriber.queue.get()
                if live is None:
                    raise SubscriberTooSlow(last)
                if replayed is not None and _id_key(live.id) <= replayed:
                    continue  # already sent from the backlog
                last = live.id
                yield live
        finally:
            self._remove(subscriber)


async def _oldest_of_last(subscriber: _Subscriber, count: int, after: str | None) -> str | None:
    """The id of the oldest of the last `count` events this subscriber wants (after `after`)."""
    redis = get_redis()
    end, found, scanned = "+", 0, 0
    oldest: str | None = None
    floor = f"({after}" if after and after != "$" else "-"
    while found < count and scanned < LAST_SCAN_LIMIT:
        rows = await redis.xrevrange(stream_key(), max=end, min=floor, count=REPLAY_PAGE)
        for event_id, fields in rows:
            if subscriber.user_id in (None, fields.get("user_id")) and subscriber.wants(
                fields.get("subject", "")
            ):
                oldest, found = event_id, found + 1
                if found == count:
                    break
        scanned += len(rows)
        if len(rows) < REPLAY_PAGE:
            break
        end = f"({rows[-1][0]}"
    return oldest


async def _replay(start: str) -> AsyncIterator[Event]:
    """Every event from `start` (an XRANGE bound: "(id" exclusive) on, oldest first, in pages."""
    redis = get_redis()
    while True:
        rows = await redis.xrange(stream_key(), min=start, max="+", count=REPLAY_PAGE)
        for event_id, fields in rows:
            yield decode_entry(event_id, fields)
        if len(rows) < REPLAY_PAGE:
            return
        start = f"({rows[-1][0]}"


_multiplexers: dict[int, Multiplexer] = {}


def multiplexer() -> Multiplexer:
    """This event loop's multiplexer (a process serves from one loop; tests may run several)."""
    loop_id = id(asyncio.get_running_loop())
    found = _multiplexers.get(loop_id)
    if found is None:
        found = _multiplexers[loop_id] = Multiplexer()
    return found


def open_subscriptions() -> int:
    """Subscribers this process serves now (every loop's multiplexer)."""
    return sum(m.subscribers for m in _multiplexers.values())


def subscribe(
    subjects: Collection[str] | None = None,
    user_id: str | None = None,
    after: str | None = None,
    last_n: int | None = None,
) -> AsyncIterator[Event]:
    """Follow the bus through this process's multiplexer (see the module docstring)."""
    return multiplexer().subscribe(subjects, user_id, after, last_n)
