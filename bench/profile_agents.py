"""Where an agent pass spends its CPU: the worker's agent jobs run in process, under cProfile.

Run:  .venv/bin/python bench/profile_agents.py [--users 2000] [--concurrency 500] [--top 25]
                                               [--jobs per-group|per-person]

Seeds a private PostgreSQL database like bench/agents_throughput.py (people with 40–90
completed tasks each, by COPY), then runs the worker's group job function
(`compute_agents_group`, people grouped as the fan-out groups them; `--jobs per-person`:
`compute_agents` for every person, on the worker's batched runner) on one event loop,
`--concurrency` people at a time, with the domains' event handlers installed and the worker's
garbage-collector settings (worker/heap.py; OO_WORKER_GC=default for CPython's) — once
without and once under cProfile (on CPU time); every note is new both times (the outputs are
deleted in between), so every run also asks for a tip-candidate generation, as in a first pass.
arq itself is not in the picture: the difference between this and agents_throughput.py's
per-run CPU is the queue's share. Prints wall and CPU per run and the collector's share, the
self time grouped by package, and the top functions by cumulative time. Drops the database and
the run's Redis keys.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import time
from collections import defaultdict
from typing import Any

import agents_throughput as at

GROUPS = (
    ("/agents/", "agents (compute + inference)"),
    ("/backend/profile/", "backend/profile (runner, batch, reads)"),
    ("/backend/", "other backend"),
    ("/piccolo/", "Piccolo ORM"),
    ("/asyncpg/", "asyncpg"),
    ("/redis/", "redis-py"),
    ("/numpy/", "numpy"),
    ("/asyncio/", "asyncio"),
    ("/json/", "json"),
    ("/msgspec/", "msgspec"),
    ("zoneinfo", "zoneinfo / datetime"),
)


async def _pass(user_ids: list[str], concurrency: int, shape: str) -> tuple[float, float]:
    from backend.profile.jobs import compute_agents, compute_agents_group, group_count, group_of

    if shape == "per-person":
        units = [[u] for u in user_ids]
    else:
        groups = group_count(len(user_ids))
        members: dict[int, list[str]] = {}
        for uid in user_ids:
            members.setdefault(group_of(uid, groups), []).append(uid)
        units = [members[g] for g in sorted(members)]
    gate = asyncio.Semaphore(max(1, concurrency // max(len(u) for u in units)))

    async def one(unit: list[str]) -> None:
        async with gate:
            if shape == "per-person":
                await compute_agents({}, unit[0])
            else:
                await compute_agents_group({}, unit)

    wall0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(u) for u in units))
    return time.perf_counter() - wall0, time.process_time() - cpu0


class GcClock:
    """CPU seconds spent in the garbage collector while installed (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.collections += 1


def _grouped(stats: pstats.Stats) -> list[tuple[str, float]]:
    totals: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (path, _, _), (_, _, tottime, _, _) in raw.items():
        name = next((label for key, label in GROUPS if key in path), "other (builtins, stdlib)")
        totals[name] += tottime
    return sorted(totals.items(), key=lambda kv: -kv[1])


async def main_async(args: argparse.Namespace) -> None:
    """Seed, run the pass twice (plain, profiled), print, clean up."""
    for key, value in at.bench_env(args.concurrency).items():
        os.environ[key] = value
    await at.admin_sql(f'CREATE DATABASE "{at.DB_NAME}"')
    user_ids: list[str] = []
    try:
        import subprocess
        import sys
        from pathlib import Path

        oo = str(Path(sys.executable).parent / "oo")
        subprocess.run([oo, "migrate"], env=at.bench_env(0), cwd=at.ROOT, check=True)
        await at.seed(args.users)
        from backend.db import open_pool
        from backend.domains import install

        install()  # the domains' event handlers, as `oo worker` installs them at startup
        await open_pool()
        from worker.heap import settle_heap

        settle_heap()  # the worker's collector settings (OO_WORKER_GC=default: CPython's)
        from backend.identity.service import live_user_zones

        user_ids = sorted(await live_user_zones())
        from process_cpu import pg_cpu_s

        gc_clock = GcClock()
        gc.callbacks.append(gc_clock)
        pg_before = pg_cpu_s(at.DB_NAME)
        wall, cpu = await _pass(user_ids, args.concurrency, args.jobs)
        pg_cpu = pg_cpu_s(at.DB_NAME, pg_before)
        gc.callbacks.remove(gc_clock)
        runs = 5 * len(user_ids)
        print(
            f"plain: {len(user_ids)} people, {runs} agent runs in {wall:.1f} s wall"
            f" ({runs / wall:,.0f} runs/s), CPU {cpu:.1f} s = {cpu / runs * 1000:.2f} ms per run;"
            f" garbage collector {gc_clock.seconds:.1f} s in {gc_clock.collections} collections;"
            f" PostgreSQL {pg_cpu:.1f} s"
        )
        from backend.profile.tables import AgentOutput

        # Every run of the profiled pass writes a changed note again, as in a first pass (a
        # changed note is what asks for a tip-candidate generation).
        await AgentOutput.delete(force=True)
        # CPU time, not wall: on a shared machine wall time charges other processes to whatever ran.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        wall, cpu = await _pass(user_ids, args.concurrency, args.jobs)
        profiler.disable()
        print(f"profiled: {wall:.1f} s wall, CPU {cpu:.1f} s (the profiler roughly doubles it)")
        stats = pstats.Stats(profiler)
        if args.save:
            stats.dump_stats(args.save)  # for pstats' callers / callees views
        total = sum(t for _, t in _grouped(stats))
        for name, spent in _grouped(stats):
            print(f"  {spent / total:6.1%}  {name}")
        stats.sort_stats("cumulative").print_stats(args.top)
    finally:
        from backend.db import close_pool
        from backend.queue import close_queue
        from backend.redis import close_redis

        await close_queue()
        await close_redis()
        await close_pool()
        await at.cleanup_redis(set(user_ids))
        await at.admin_sql(f'DROP DATABASE IF EXISTS "{at.DB_NAME}" WITH (FORCE)')


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", default="", help="write the profile here (pstats format)")
    parser.add_argument("--jobs", choices=("per-group", "per-person"), default="per-group")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
