"""Holding up: people reacting to tips while a dependency goes away and comes back.

Run:  .venv/bin/python bench/load.py [--people 200] [--duration 300]
                                     [--fault redis|postgres|worker|none] [--fault-s 10]
      quick run: .venv/bin/python bench/load.py --people 20 --duration 60 --fault redis

This script (127.0.0.1 only; nothing outside its own processes and temporary directories)
  1. starts its OWN PostgreSQL (initdb as the postgres user, pg_ctl on a free port) and its OWN
     Redis (redis-server on a free port, --save ""): the machine's shared servers are never
     touched, so the fault can stop and start them;
  2. runs `oo migrate`, seeds `--people` people with demo tasks and a personal token each, and
     starts 2 `oo serve` and 2 `oo worker` processes in production mode (OO_ENV=production,
     DATABASE_URL, REDIS_URL, OO_SECRET_KEYS, OO_BASE_URL). Production's rate limits are kept
     on but raised (OO_RATE_GRAPHQL): every simulated person comes from 127.0.0.1, and the
     per-address limit (1200/minute) would otherwise refuse the bench itself. Snooze/dismiss
     hide an item for 30 s instead of hours (OO_SNOOZE, OO_DISMISS) so people do not run out
     of tips; background LLM candidates are off (no model server);
  3. runs `--people` simulated people (asyncio + httpx, at most `--concurrency` requests in
     flight, round-robin over the two web servers): each asks `{ tip { id } }`, waits a think
     time, and answers with `feedback(tipId, action, dwellMs, clientRequestId)`, retrying the
     SAME clientRequestId on transport errors, HTTP 429/502/503/504 and SERVICE_UNAVAILABLE
     (the server answers a retry with the stored reaction);
  4. in the middle of the run injects one fault for `--fault-s` seconds: redis = stop the own
     Redis and start it again on the same port; postgres = stop / start the own PostgreSQL;
     worker = SIGKILL one worker and start a new one;
  5. waits for the reaction outbox to drain (backend/recommender/outbox.py), then prints the
     figures next to their targets: requests, errors by code, p50/p99 of tip and feedback,
     reactions acknowledged vs stored, stored-but-reported-failed, lost, duplicates (reward
     updates per policy beyond the stored reactions), errors outside the fault window,
     recovery seconds, tips answered during a Redis outage, DB connections, Redis memory;
  6. stops every process it started (by pid) and removes its temporary directories, also on
     Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmark the tree this script lives in
    sys.path.insert(0, str(ROOT))

from load_people import DRAIN_WAIT_S, Fault, People  # noqa: E402
from load_report import _log_findings, _report  # noqa: E402
from load_stack import (  # noqa: E402 - bench/ is the script's folder, on sys.path
    OwnPostgres,
    OwnRedis,
    Stack,
    _base_env,
    _oo,
    _run,
    _seed,
    _start_server,
    _start_worker,
)

# --- the monitor and the fault ----------------------------------------------------------------


@dataclass
class Observed:
    """What the monitor and the fault recorded."""

    pg_peak: int = 0
    pg_end: int | None = None
    redis_used_memory: int | None = None
    workers_died: int = 0


async def _pg_connections(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=2)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def _monitor(dsn: str, observed: Observed, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(Exception):  # PostgreSQL away during its own fault
            observed.pg_peak = max(observed.pg_peak, await _pg_connections(dsn))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _inject(stack: Stack, fault: Fault, at: float, fault_s: float) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    fault.start = time.monotonic()
    print(f"    fault: {fault.kind} away for {fault_s:g} s", flush=True)
    if fault.kind == "redis":
        assert stack.redis is not None
        await asyncio.to_thread(stack.redis.stop)
        await asyncio.sleep(max(0.0, fault.start + fault_s - time.monotonic()))
        await asyncio.to_thread(stack.redis.start)
    elif fault.kind == "postgres":
        assert stack.pg is not None
        await asyncio.to_thread(stack.pg.stop)
        await asyncio.sleep(max(0.0, fault.start + fault_s - time.monotonic()))
        await asyncio.to_thread(stack.pg.start)
    elif fault.kind == "worker":
        victim = stack.workers.pop(0)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        stack.retired.append(victim)
        await asyncio.sleep(max(0.0, fault.start + fault_s - time.monotonic()))
        _start_worker(stack, 3)
    fault.back = time.monotonic()
    print(f"    fault: {fault.kind} back after {fault.back - fault.start:.1f} s", flush=True)


async def _load(stack: Stack, urls: list[str], tokens: list[str], args: argparse.Namespace):  # type: ignore[no-untyped-def]
    assert stack.pg is not None
    people = People(urls, tokens, args)
    observed = Observed()
    fault = Fault(args.fault)
    stop = asyncio.Event()
    monitor = asyncio.create_task(_monitor(stack.pg.url, observed, stop))
    t0 = time.monotonic()
    until = t0 + args.duration
    injector = None
    if args.fault != "none":
        at = t0 + max(0.0, (args.duration - args.fault_s) / 2)
        injector = asyncio.create_task(_inject(stack, fault, at, args.fault_s))
    try:
        await asyncio.gather(*(people.person(i, until) for i in range(len(tokens))))
        if injector is not None:
            await injector
        run_s = time.monotonic() - t0
        for proc in stack.workers:
            if proc.poll() is not None:
                observed.workers_died += 1
        observed.pg_end = await _pg_connections(stack.pg.url)
        drained, pending_s = await _drain(stack.pg.url)
    finally:
        stop.set()
        await monitor
        if injector is not None and not injector.done():
            injector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await injector
        await people.close()
    db = await _db_figures(stack.pg.url)
    observed.redis_used_memory = await _redis_memory(stack)
    return people.stats, observed, fault, run_s, drained, pending_s, db


async def _drain(dsn: str) -> tuple[bool, float]:
    """Wait until the outbox holds nothing left to send (or DRAIN_WAIT_S passed)."""
    import asyncpg

    started = time.monotonic()
    while time.monotonic() - started < DRAIN_WAIT_S:
        with contextlib.suppress(Exception):
            conn = await asyncpg.connect(dsn, timeout=2)
            try:
                left = await conn.fetchval(
                    "SELECT count(*) FROM recommender_outbox WHERE given_up_at IS NULL"
                )
            finally:
                await conn.close()
            if left == 0:
                return True, time.monotonic() - started
        await asyncio.sleep(1.0)
    return False, time.monotonic() - started


async def _db_figures(dsn: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        request_ids = [
            r["request_id"]
            for r in await conn.fetch(
                "SELECT request_id FROM feedback WHERE request_id IS NOT NULL"
            )
        ]
        feedback_rows = await conn.fetchval("SELECT count(*) FROM feedback")
        same_tip = await conn.fetchval("SELECT count(*) - count(DISTINCT tip) FROM feedback")
        # Every running policy learns once per stored reaction (backend/recommender/learning.py):
        # more updates than reactions is a reward applied twice.
        updates = {
            r["policy_id"]: int(r["updates"])
            for r in await conn.fetch(
                "SELECT policy_id, sum(updates) AS updates FROM policy_state GROUP BY policy_id"
            )
        }
        outbox = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE given_up_at IS NULL) AS pending, "
            "count(*) FILTER (WHERE given_up_at IS NOT NULL) AS given_up FROM recommender_outbox"
        )
        served = await conn.fetchval("SELECT count(*) FROM served_tip")
    finally:
        await conn.close()
    return {
        "request_ids": request_ids,
        "feedback_rows": int(feedback_rows),
        "same_tip": int(same_tip),
        "updates": updates,
        "outbox_pending": int(outbox["pending"]),
        "outbox_given_up": int(outbox["given_up"]),
        "served": int(served),
    }


async def _redis_memory(stack: Stack) -> int | None:
    import redis.asyncio as aredis

    assert stack.redis is not None
    client = aredis.Redis.from_url(stack.redis.url, socket_timeout=2)
    try:
        return int((await client.info("memory"))["used_memory"])
    except Exception:
        return None
    finally:
        await client.aclose()


# --- main -------------------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--fault", choices=("redis", "postgres", "worker", "none"), default="redis")
    parser.add_argument("--fault-s", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    parser.add_argument("--think-s", type=float, nargs=2, default=(0.5, 2.0), metavar=("LO", "HI"))
    parser.add_argument("--timeout-s", type=float, default=10.0, help="per request")
    parser.add_argument("--keep-logs", action="store_true", help="print the processes' log tails")
    parser.add_argument("--seed-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        print(json.dumps(asyncio.run(_seed(args.seed_only))))
        return
    if not 1 <= args.people <= 2000 or not 5 <= args.duration <= 3600:
        raise SystemExit("--people 1..2000 and --duration 5..3600 keep the bench bounded")

    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = Stack(tmp=Path(tempfile.mkdtemp(prefix="oo-load-")))
    try:
        print(f"--- own PostgreSQL + Redis, migrate, seed {args.people} people …", flush=True)
        (stack.tmp / "var").mkdir()
        stack.pg = OwnPostgres()
        stack.pg.start()
        stack.redis = OwnRedis(stack.tmp)
        stack.redis.start()
        stack.env = _base_env(stack)
        _run(_oo("migrate"), stack.env, "oo migrate")
        tokens = json.loads(
            _run([sys.executable, __file__, "--seed-only", str(args.people)], stack.env, "seeding")
        )
        print("--- 2 × oo serve, 2 × oo worker (OO_ENV=production) …", flush=True)
        urls = [_start_server(stack, n) for n in (1, 2)]
        for n in (1, 2):
            _start_worker(stack, n)
        print(
            f"--- {args.people} people for {args.duration:g} s, fault {args.fault}"
            + (f" ({args.fault_s:g} s)" if args.fault != "none" else "")
            + " …",
            flush=True,
        )
        stats, observed, fault, run_s, drained, pending_s, db = asyncio.run(
            _load(stack, urls, tokens, args)
        )
        _report(stats, observed, fault, run_s, drained, pending_s, db, len(urls))
        _log_findings(stack.logs)
        if args.keep_logs:
            for log in stack.logs:
                print(f"\n--- {log.name} (tail)\n{log.read_text(errors='replace')[-1500:]}")
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
    finally:
        # A second Ctrl-C must not leave half of it running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.teardown()


if __name__ == "__main__":
    main()
