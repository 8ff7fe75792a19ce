"""The coalescer behind workers' batched reads and writes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from backend.profile.batch import BatchWriter, Coalescer


async def test_concurrent_loads_share_one_fetch() -> None:
    calls: list[list[str]] = []

    async def fetch(keys: Sequence[str]) -> Mapping[str, str]:
        calls.append(sorted(keys))
        return {k: k.upper() for k in keys if k != "gone"}

    loader: Coalescer[str, str] = Coalescer(fetch, wait_s=0.01)
    got = await asyncio.gather(*[loader.load(k) for k in ("a", "b", "a", "gone")])
    assert got == ["A", "B", "A", None]
    assert calls == [["a", "b", "gone"]]


async def test_a_full_batch_goes_at_once_and_errors_reach_every_caller() -> None:
    async def fetch(keys: Sequence[int]) -> Mapping[int, int]:
        if 99 in keys:
            raise RuntimeError("database down")
        return {k: k for k in keys}

    loader: Coalescer[int, int] = Coalescer(fetch, max_batch=2, wait_s=10)
    assert await asyncio.wait_for(asyncio.gather(loader.load(1), loader.load(2)), 1) == [1, 2]
    results = await asyncio.gather(loader.load(98), loader.load(99), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_cache_serves_repeat_reads_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    async def fetch(keys: Sequence[str]) -> Mapping[str, int]:
        nonlocal calls
        calls += 1
        return dict.fromkeys(keys, calls)

    # The loop's clock is moved forward by hand: a loaded machine may pause between two loads
    # for longer than any short cache time, so real waiting cannot say "still cached".
    loop = asyncio.get_running_loop()
    real_time, skipped = loop.time, 0.0
    monkeypatch.setattr(loop, "time", lambda: real_time() + skipped)
    loader: Coalescer[str, int] = Coalescer(fetch, wait_s=0.001, cache_s=60)
    assert await loader.load("x") == 1
    assert await loader.load("x") == 1  # cached
    skipped = 61.0
    assert await loader.load("x") == 2


@pytest.mark.parametrize("n", [1, 7])
async def test_batch_writer_stores_everything_submitted(n: int) -> None:
    stored: list[list[int]] = []

    async def write(items: Sequence[int]) -> None:
        stored.append(list(items))

    writer: BatchWriter[int] = BatchWriter(write, wait_s=0.01)
    await asyncio.gather(*[writer.submit(i) for i in range(n)])
    assert stored == [list(range(n))]
