"""Coalescing concurrent calls into one batched call (a DataLoader for workers).

An arq worker runs hundreds of agent jobs at once; each needs its person's profile and
history and writes one result. Issued one by one that is thousands of tiny queries a second;
coalesced, the jobs started in the same few milliseconds share one query per kind. A job still
awaits its own answer, so errors and ordering stay per job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

WAIT_S = 0.06
"""How long the first call of a batch waits for company. arq starts a worker's jobs one at a
time (a few Redis round trips each), so company arrives over tens of milliseconds."""


class Coalescer(Generic[K, V]):
    """`await load(key)`: keys asked for within WAIT_S are fetched together by `fetch`.

    `fetch(keys)` returns a mapping; a key it leaves out resolves to `missing`. A failing
    fetch fails every caller of that batch (each job then retries on its own). With `cache_s`,
    answers are reused for that long (reads that may be a few seconds old, never writes).
    """

    def __init__(
        self,
        fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
        *,
        max_batch: int = 500,
        wait_s: float = WAIT_S,
        missing: V | None = None,
        cache_s: float = 0.0,
    ) -> None:
        self._fetch = fetch
        self._max = max_batch
        self._wait = wait_s
        self._missing = missing
        self._cache_s = cache_s
        self._cache: dict[K, tuple[float, V | None]] = {}
        self._pending: dict[K, list[asyncio.Future[V | None]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def load(self, key: K) -> V | None:
        """The value for `key`, fetched with whatever else is asked for meanwhile."""
        loop = asyncio.get_running_loop()
        if self._cache_s:
            hit = self._cache.get(key)
            if hit is not None and loop.time() - hit[0] < self._cache_s:
                return hit[1]
        future: asyncio.Future[V | None] = loop.create_future()
        self._pending.setdefault(key, []).append(future)
        if len(self._pending) >= self._max:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._wait, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)  # keep a reference until done (asyncio holds tasks weakly)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: dict[K, list[asyncio.Future[V | None]]]) -> None:
        try:
            found = await self._fetch(list(batch))
        except Exception as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        now = asyncio.get_running_loop().time()
        if self._cache_s:
            # Drop what has aged out, then remember this batch (a person's agents run one
            # after another: the first run's read serves the rest).
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self._cache_s}
        for key, futures in batch.items():
            value = found.get(key, self._missing)
            if self._cache_s:
                self._cache[key] = (now, value)
            for future in futures:
                if not future.done():
                    future.set_result(value)


T = TypeVar("T")


class BatchWriter(Generic[T]):
    """`await submit(item)` returns once `write(items)` has stored it with its batch."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[None]],
        *,
        max_batch: int = 500,
        wait_s: float = WAIT_S,
    ) -> None:
        self._write = write
        self._items: dict[int, T] = {}
        self._next = 0
        self._loader: Coalescer[int, bool] = Coalescer(
            self._flush, max_batch=max_batch, wait_s=wait_s, missing=False
        )

    async def submit(self, item: T) -> None:
        """Store `item` (with whatever else is submitted meanwhile)."""
        self._next += 1
        token = self._next
        self._items[token] = item
        await self._loader.load(token)

    async def _flush(self, tokens: Sequence[int]) -> Mapping[int, bool]:
        items = [self._items.pop(t) for t in tokens]
        await self._write(items)
        return dict.fromkeys(tokens, True)
