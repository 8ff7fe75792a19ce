"""The report of bench/profile_tip.py: timers, round trips and the profile by group (split from it
to keep each file short)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

# Self time of a function is charged to the first group its file path matches.
GROUPS: tuple[tuple[str, str], ...] = (
    ("/backend/recommender/policies/", "policy scoring (backend/recommender/policies)"),
    ("/backend/recommender/", "recommender (backend/recommender)"),
    ("/backend/identity/", "auth / session (backend/identity)"),
    ("/backend/graphql/", "GraphQL kernel (context, permissions, cost, http)"),
    ("/backend/ratelimit", "rate limits (backend/ratelimit*)"),
    ("/backend/rate_limit", "rate limits (backend/ratelimit*)"),
    ("/backend/", "other backend modules"),
    ("/agents/", "agents"),
    ("/graphql/language/", "GraphQL parse (graphql-core)"),
    ("/graphql/validation/", "GraphQL validate (graphql-core)"),
    ("/graphql/execution/", "GraphQL execute (graphql-core)"),
    ("/graphql/", "graphql-core, other"),
    ("/strawberry/", "Strawberry"),
    ("/litestar/", "Litestar (ASGI, routing, response)"),
    ("/piccolo/", "Piccolo ORM"),
    ("/aiosqlite/", "database driver"),
    ("/asyncpg/", "database driver"),
    ("/sqlite3/", "database driver"),
    ("/limits/", "rate limits (limits library)"),
    ("/redis/", "Redis client (redis-py)"),
    ("/msgspec/", "serialization (msgspec/json)"),
    ("/json/", "serialization (msgspec/json)"),
    ("/asyncio/", "asyncio event loop"),
    ("/httpx/", "test client (httpx, not the server)"),
    ("/anyio/", "test client (httpx, not the server)"),
    ("/httpcore/", "test client (httpx, not the server)"),
)


def print_timers(
    timers: tuple[dict[Any, int], dict[Any, float]],
    requests: int,
    walls: dict[str, list[float]],
) -> None:
    """Pass 1: per scenario, wall time per request (mean, median) and each timed part."""
    count, secs = timers
    print("\nPass 1 — timers (wall, per request; in-process ASGI, no network to the client)")
    print(
        "| scenario | requests | wall mean ms | wall p50 ms | Redis round trips | Redis ms "
        "| DB queries | DB ms | rest (CPU, awaits) ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    # Queries and commands can overlap (gathered reads), so "rest" is a floor, not exact.
    for scenario in ("cached", "feedback", "fresh"):
        n = count.get((scenario, "request"), 0)
        if not n:
            continue
        wall = secs[(scenario, "request")] / n * 1000
        r_n, r_ms = count.get((scenario, "redis"), 0) / n, secs.get((scenario, "redis"), 0) / n
        d_n, d_ms = count.get((scenario, "db"), 0) / n, secs.get((scenario, "db"), 0) / n
        rest = max(0.0, wall - (r_ms + d_ms) * 1000)
        p50 = statistics.median(walls[scenario]) * 1000 if walls[scenario] else 0.0
        print(
            f"| {scenario} | {n} | {wall:.2f} | {p50:.2f} | {r_n:.1f} | {r_ms * 1000:.2f} "
            f"| {d_n:.1f} | {d_ms * 1000:.2f} | {rest:.2f} |"
        )


def print_round_trips(listing: dict[str, dict[str, int]], count: dict[Any, int]) -> None:
    """What the round trips and queries of pass 1 were, per request, most frequent first."""
    print("\nPass 1 — what they were (per request)")
    for scenario in ("cached", "feedback", "fresh"):
        n = count.get((scenario, "request"), 0)
        if not n:
            continue
        print(f"{scenario}:")
        for name, times in sorted(listing.get(scenario, {}).items(), key=lambda kv: -kv[1]):
            print(f"  {times / n:5.2f}  {name}")


IDLE = "idle: waiting on I/O or a thread (not CPU)"


def _group(filename: str, func: str) -> str:
    if filename == "~":
        if any(w in func for w in ("poll", "select", "acquire", "wait")):
            return IDLE
        if "socket" in func:
            return "socket send/recv (Redis, PostgreSQL)"
        if "thread" in func or "SimpleQueue" in func:
            return "threads (aiosqlite: a thread per connection)"
        if "urandom" in func:
            return "randomness (uuid4, tokens)"
    path = filename.replace("\\", "/")
    for needle, name in GROUPS:
        if needle in path:
            return name
    if path.startswith(("~", "<")):
        return "built-ins, other (C calls)"
    return "other libraries / stdlib"


def print_profile(name: str, stats: Any, requests: int, top: int) -> None:
    by_group: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_group[_group(filename, func)] += tottime
        total += tottime
    skip = {k for k in by_group if k.startswith("test client") or k == IDLE}
    server = total - sum(by_group[k] for k in skip)
    print(f"\nPass 2 — cProfile, {name}: server CPU self time per request by where it is spent")
    print(
        f"(server CPU {server / requests * 1000:.2f} ms/request under the profiler; idle "
        f"{by_group[IDLE] / requests * 1000:.2f} ms/request not counted)"
    )
    print("| where | ms / request | share |")
    print("|---|---:|---:|")
    for group, secs in sorted(by_group.items(), key=lambda kv: -kv[1]):
        if group in skip or secs / server < 0.005:
            continue
        print(f"| {group} | {secs / requests * 1000:.3f} | {secs / server:.0%} |")
    if top:
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)  # where the self time is
