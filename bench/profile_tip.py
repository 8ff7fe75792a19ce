"""Where one `tip` request spends its time: cached, fresh (after a reaction), and `feedback`.

Run:  .venv/bin/python bench/profile_tip.py [--db sqlite|postgres] [--requests 200] [--people 10]
                                            [--tasks N] [--top 0]

Everything runs in this one process (no sockets between client and app): the Litestar app is
driven through its ASGI interface by httpx's ASGI transport, with the app's lifespan entered as
`oo serve` would. The deployment is private: a SQLite file in a temporary OO_VAR_DIR (or a fresh
PostgreSQL database oo_profile_<random> on 127.0.0.1:5432) and the Redis at 127.0.0.1:6379 under
the key prefix oo-profile-<random>:; all of it is removed at the end.

Three scenarios, each measured twice:
  cached    `{ tip { id content } }` when the person's tip is unanswered (the steady state);
  fresh     the same query right after a reaction: a new pick (candidates, policy, decision log);
  feedback  the `feedback` mutation (SNOOZE) on the current tip, without asking for the next.
Pass 1 (timers): wall time per request at the ASGI boundary, and every Redis round trip and
database query the request makes (counted and timed by wrappers around redis-py's
`execute_command`/`Pipeline.execute` and Piccolo's `run_querystring`; only work done inside the
request's context is counted, not the heartbeat). Pass 2 (cProfile): the request's CPU split by
where its own time goes (self time grouped by package or backend module); `--top N` also prints
the N functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import logging
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
RUN = secrets.token_hex(4)
VAR_DIR = Path(tempfile.mkdtemp(prefix=f"oo-profile-{RUN}-"))
PG_DB = f"oo_profile_{RUN}"

SCENARIOS = ("cached", "fresh", "feedback")
TIP = "query { tip { id content } }"
FEEDBACK = """mutation($tipId: ID!) {
  feedback(tipId: $tipId, action: SNOOZE, dwellMs: 4000) { reward errors { code } }
}"""


def _environment(db: str) -> None:
    """Point settings at this run's private database and Redis prefix (before any import)."""
    if db == "postgres":
        os.environ["DATABASE_URL"] = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{PG_DB}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR_DIR / 'profile.sqlite3'}"
    os.environ["REDIS_URL"] = os.environ.get("OO_PROFILE_REDIS", "redis://127.0.0.1:6379/0")
    os.environ["OO_REDIS_PREFIX"] = f"oo-profile-{RUN}:"
    os.environ["OO_VAR_DIR"] = str(VAR_DIR)
    os.environ["PICCOLO_CONF"] = "backend.piccolo_conf"
    os.environ["OO_LLM_BACKGROUND"] = "false"
    os.environ["OO_ADMIN_ROLLUPS"] = "false"
    # One caller asks hundreds of times a minute here; the limits are still checked (their
    # round trips are part of the figure), they just never refuse.
    os.environ["OO_RATE_GRAPHQL"] = "1000000/minute"
    os.environ["OO_RATE_GRAPHQL_COST"] = "100000000/minute"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# --- counting wrappers ---------------------------------------------------------------------

_scenario: contextvars.ContextVar[str | None] = contextvars.ContextVar("scenario", default=None)
_profilers: dict[str, cProfile.Profile] = {}
"""scenario → the profiler its requests run under (pass 2 only)."""
calls: dict[tuple[str, str], int] = defaultdict(int)
spent: dict[tuple[str, str], float] = defaultdict(float)
walls: dict[str, list[float]] = defaultdict(list)
"""scenario → wall seconds of each request of pass 1 (for the median: a busy machine's stalls
move the mean more than the median)."""
what: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
"""scenario → what each round trip or query was (command name / first words of the SQL)."""


def _label(kind: str, args: tuple[Any, ...]) -> str:
    first = args[1] if len(args) > 1 else None
    if kind == "db":
        sql = " ".join(str(getattr(first, "template", first)).split())
        return "SQL " + sql[:60]
    if isinstance(first, str | bytes):  # Redis.execute_command(self, name, *args)
        name = first.decode() if isinstance(first, bytes) else first
        return name.upper() if name.upper() != "EVALSHA" else "EVALSHA (a Lua script)"
    stack = getattr(args[0], "command_stack", None)  # Pipeline.execute(self)
    if stack is not None:
        return "PIPELINE " + " ".join(
            str((getattr(c, "args", None) or c[0])[0]).upper() for c in stack
        )
    return kind


def _counted(kind: str, original: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        scenario = _scenario.get()
        if scenario is None:
            return await original(*args, **kwargs)
        if _profilers.get(scenario) is None:  # (pipelines forget their commands on execute)
            what[scenario][f"{kind}: {_label(kind, args)}"] += 1
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            calls[(scenario, kind)] += 1
            spent[(scenario, kind)] += time.perf_counter() - started

    return wrapper


def _install_counters() -> None:
    from redis.asyncio.client import Pipeline, Redis

    from backend.db import engine

    Redis.execute_command = _counted("redis", Redis.execute_command)  # type: ignore[method-assign]
    Pipeline.execute = _counted("redis", Pipeline.execute)  # type: ignore[method-assign]
    engine_class = type(engine())
    engine_class.run_querystring = _counted("db", engine_class.run_querystring)  # type: ignore[method-assign]


# --- the app, in process -------------------------------------------------------------------


class Caller:
    """One person's client: their token, and their current tip."""

    def __init__(self, client: Any, user_id: str, token: str) -> None:
        self.client, self.user_id = client, user_id
        self.headers = {"authorization": f"Bearer {token}"}

    async def post(self, scenario: str, query: str, **variables: Any) -> dict[str, Any]:
        reset = _scenario.set(scenario)
        profiler = _profilers.get(scenario)
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            response = await self.client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=self.headers
            )
        finally:
            if profiler is not None:
                profiler.disable()
            calls[(scenario, "request")] += 1
            spent[(scenario, "request")] += time.perf_counter() - started
            if profiler is None:
                walls[scenario].append(time.perf_counter() - started)
            _scenario.reset(reset)
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{scenario}: HTTP {response.status_code} {body}")
        return body

    async def tip_id(self, scenario: str) -> str | None:
        tip = (await self.post(scenario, TIP))["data"]["tip"]
        return str(tip["id"]) if tip else None

    async def react_quietly(self, tip_id: str) -> None:
        """Answer the tip through the service, outside the figures: the next `tip` is fresh.

        (The `feedback` mutation picks the next tip itself, so a `tip` query after it is a
        cache hit; this is how a tip query that must pick is produced.)
        """
        from backend.identity.service import principal_for_user
        from backend.recommender.reward import Action
        from backend.recommender.service import react

        principal = await principal_for_user(self.user_id, "token")
        assert principal is not None
        await react(principal, tip_id, Action.SNOOZE, 4000)


async def _seed(people: int, tasks: int | None = None) -> list[tuple[str, str]]:
    """People with demo tasks (the demo's 20–40, or `tasks` open ones): (user id, token) each."""
    from backend.identity.service import create_api_token, get_or_create_user
    from backend.integrations.demo import seed_demo_tasks

    found = []
    for i in range(people):
        user_id = await get_or_create_user(f"profile-{i:03d}@bench.test", f"Profile {i}")
        if tasks:
            from tip_latency_sweep import seed_tasks

            await seed_tasks(user_id, tasks, seed=i)
        else:
            await seed_demo_tasks(user_id, seed=i)
        found.append((user_id, (await create_api_token(user_id, "profile"))[1]))
    return found


async def _round(callers: list[Caller], requests: int, scenario: str) -> int:
    """`requests` of one scenario, spread over the people; returns the non-null tips."""
    found = 0
    for n in range(requests):
        caller = callers[n % len(callers)]
        if scenario == "cached":
            found += (await caller.tip_id("cached")) is not None
            continue
        tip_id = await caller.tip_id("warm")  # the current tip (already cached)
        if tip_id is None:
            continue
        if scenario == "feedback":
            body = await caller.post("feedback", FEEDBACK, tipId=tip_id)
            found += not body["data"]["feedback"]["errors"]
        else:
            await caller.react_quietly(tip_id)
            found += (await caller.tip_id("fresh")) is not None
    return found


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from backend.app import create_app
    from backend.migrate import migrate

    await migrate()
    app = create_app()
    async with app.lifespan():
        people = await _seed(args.people, args.tasks)
        _install_counters()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            callers = [Caller(client, uid, token) for uid, token in people]
            for caller in callers:  # the first pick of each person, outside the figures
                await caller.tip_id("warmup")
            found = {s: await _round(callers, args.requests, s) for s in SCENARIOS}
            timers = dict(calls), dict(spent)
            profiles: dict[str, pstats.Stats] = {}
            for scenario in SCENARIOS:
                profiler = _profilers[scenario] = cProfile.Profile()
                await _round(callers, args.requests, scenario)
                del _profilers[scenario]
                profiler.create_stats()
                if profiler.stats:
                    profiles[scenario] = pstats.Stats(profiler)
    listing = {k: dict(v) for k, v in what.items()}
    return {"timers": timers, "profiles": profiles, "found": found, "what": listing}


from profile_tip_report import print_profile, print_round_trips, print_timers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200, help="per scenario and pass")
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--tasks", type=int, help="open tasks per person (default: the demo's)")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    args = parser.parse_args()
    _environment(args.db)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the client's own log, not the app's
    if args.db == "postgres":
        asyncio.run(_pg(f'CREATE DATABASE "{PG_DB}"'))
    try:
        from backend.domains import install

        install()
        result = asyncio.run(_measure(args))
    finally:
        _cleanup(args.db)
    print(f"profile_tip: db={args.db}, {args.people} people, {args.requests} requests/scenario")
    print("requests that found a tip: " + ", ".join(f"{k} {v}" for k, v in result["found"].items()))
    print_timers(result["timers"], args.requests, walls)
    print_round_trips(result["what"], result["timers"][0])
    for scenario in SCENARIOS:
        if scenario not in result["profiles"]:
            # Each reaction closes a task: the people ran out of open ones before this pass.
            print(
                f"\nPass 2 — {scenario}: no requests to profile (the people ran out of open "
                "tasks: pass more --tasks or --people, or fewer --requests)"
            )
            continue
        print_profile(scenario, result["profiles"][scenario], args.requests, args.top)
    short = [s for s, n in result["found"].items() if n < args.requests]
    if short:
        print(f"note: {', '.join(short)} found fewer tips than requests (open tasks ran out)")


def _cleanup(db: str) -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for k in client.scan_iter(match=f"oo-profile-{RUN}:*", count=1000):
        client.delete(k)
    client.close()
    if db == "postgres":
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    shutil.rmtree(VAR_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
