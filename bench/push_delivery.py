"""Web Push delivery at scale: 10,000 subscriptions delivered by 2 arq workers to a stand-in.

Run:  .venv/bin/python bench/push_delivery.py [--subscriptions 10000] [--workers 2]
                                              [--max-jobs 200]

What it does
  1. prepares a private deployment: a fresh database oo_bench_push_<random> on
     postgres://postgres@127.0.0.1:5432 and the shared Redis at redis://127.0.0.1:6379/0 under
     the key prefix oo-bench-push-<random>:, then `oo migrate`;
  2. starts the push service stand-in (tests/support/push_standin.py) on 127.0.0.1: it verifies
     every VAPID JWT and decrypts every aes128gcm body with the subscription's browser keys;
  3. seeds N people with one browser subscription each (keys made like a browser makes them,
     sealed by the vault; COPY, a few seconds), makes the VAPID key;
  4. starts W `oo worker` processes, then calls `deliver(user, tip)` — the notifier's one
     entry point — for every person (64 at a time) and waits until the stand-in has accepted
     N pushes (deadline 300 s);
  5. prints pushes/s (first enqueue → last push accepted), p50 / p99 enqueue → delivered
     (`deliver()` returned → the stand-in accepted it, one clock), the attempts logged, and
     `total wall time: N s` (target: 10,000 in ≤ 60 s);
  6. cleans up: stops the workers, drops the database, deletes the run's Redis keys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
TARGET_S = 60.0
DEADLINE_S = 300.0
RUN = secrets.token_hex(4)
DB_NAME = f"oo_bench_push_{RUN}"
PREFIX = f"oo-bench-push-{RUN}:"
ONCE = f"bench{RUN}"
LOG_DIR = Path(tempfile.mkdtemp(prefix=f"oo-bench-push-{RUN}-"))


def bench_env(max_jobs: int) -> dict[str, str]:
    """The environment of every process of this run (private database and Redis prefix)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "OO_REDIS_PREFIX", "OO_VAR_DIR"}
    }
    env.update(
        DATABASE_URL=PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{DB_NAME}",
        REDIS_URL=SHARED_REDIS,
        OO_REDIS_PREFIX=PREFIX,
        OO_ENV="development",  # loopback push endpoints are accepted outside production
        OO_WORKER_MAX_JOBS=str(max_jobs),
        OO_LLM_BACKGROUND="false",  # no tip-writing jobs at worker start beside the pushes
        OO_ADMIN_ROLLUPS="false",
        PICCOLO_CONF="backend.piccolo_conf",
    )
    return env


async def admin_sql(sql: str) -> None:
    """One statement on the maintenance database."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def oo(*args: str, max_jobs: int = 0) -> subprocess.Popen[bytes]:
    """Start an `oo` subcommand in this run's environment (output to a log file)."""
    log = LOG_DIR / f"{args[0]}-{len(list(LOG_DIR.iterdir()))}.log"
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "oo"), *args],
        env=bench_env(max_jobs),
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def seed(n: int, push_service: object) -> dict[str, str]:
    """N people with one subscription each; returns endpoint id → user id."""
    import asyncpg

    from backend.identity.vault import context_for, get_vault
    from backend.notifier.tables import PushSubscription
    from backend.notifier.vapid import current_key
    from tests.support.push_standin import PushStandIn

    assert isinstance(push_service, PushStandIn)
    key_id = uuid.UUID((await current_key()).id)
    vault, now = get_vault(), datetime.now(UTC)
    people, subs, owners = [], [], {}
    for i in range(n):
        uid, sid = uuid.uuid4(), uuid.uuid4()
        browser = push_service.new_browser()
        keys = browser.to_json()["keys"]
        people.append((uid, f"push-{i}@bench.test", f"Push {i}", "user", "UTC", False, now))

        def seal(column: str, value: str, row: uuid.UUID = sid) -> str:
            return vault.encrypt(value, context_for(PushSubscription, row, column))

        subs.append(
            (
                sid,
                uid,
                browser.endpoint,
                seal("p256dh_enc", keys["p256dh"]),
                seal("auth_enc", keys["auth"]),
                "bench",
                key_id,
                now,
                "",
            )
        )
        owners[browser.endpoint.rsplit("/", 1)[1]] = str(uid)
    conn = await asyncpg.connect(bench_env(0)["DATABASE_URL"])
    try:
        await conn.copy_records_to_table(
            "app_user",
            records=people,
            columns=["id", "email", "name", "role", "timezone", "is_demo", "created_at"],
        )
        await conn.copy_records_to_table(
            "push_subscription",
            records=subs,
            columns=[
                "id",
                "user",
                "endpoint",
                "p256dh_enc",
                "auth_enc",
                "device_label",
                "vapid_key",
                "created_at",
                "last_failure",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return owners


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def run_pass(owners: dict[str, str], push_service: object) -> tuple[float, list[float]]:
    """deliver() for every person, then wait for every push; (wall s, latencies ms)."""
    from backend.notifier.delivery import deliver
    from backend.notifier.message import PushTip
    from tests.support.push_standin import PushStandIn

    assert isinstance(push_service, PushStandIn)
    enqueued: dict[str, float] = {}
    started = time.time()

    async def one(endpoint_id: str, user_id: str) -> None:
        tip = PushTip(
            id=str(uuid.uuid4()),
            content="Send the invoice to Dana before lunch",
            kind="task",
            expires_at=int(time.time()) + 3600,
            due_now=True,
            enqueued_at=time.time(),
        )
        await deliver(user_id, tip, once_key=ONCE)
        enqueued[endpoint_id] = time.time()

    items = list(owners.items())
    for start in range(0, len(items), 64):
        await asyncio.gather(*(one(e, u) for e, u in items[start : start + 64]))
    print(f"enqueued {len(items)} in {time.time() - started:.1f} s", flush=True)
    deadline = time.monotonic() + DEADLINE_S
    last = -1
    while True:
        got = len(push_service.received(201))
        if got != last:
            print(f"progress: {got}/{len(items)} delivered at {time.time() - started:.1f} s")
            last = got
        if got >= len(items) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    pushes = push_service.received(201)
    finished = max((p.at for p in pushes), default=time.time())
    latencies = [
        (p.at - enqueued[p.endpoint_id]) * 1000 for p in pushes if p.endpoint_id in enqueued
    ]
    return finished - started, latencies


async def cleanup_redis() -> None:
    """The run's prefixed keys and arq's keys of this run's jobs (their ids carry ONCE)."""
    from redis.asyncio import Redis

    client = Redis.from_url(SHARED_REDIS)
    try:
        doomed = [k async for k in client.scan_iter(match=f"{PREFIX}*", count=5000)]
        for pattern in (f"arq:*push:{ONCE}:*",):
            doomed += [k async for k in client.scan_iter(match=pattern, count=5000)]
        for start in range(0, len(doomed), 5000):
            await client.delete(*doomed[start : start + 5000])
    finally:
        await client.aclose()


async def main_async(args: argparse.Namespace) -> int:
    """The whole run; returns the exit status."""
    for key, value in bench_env(args.max_jobs).items():
        os.environ[key] = value
    from tests.support.push_standin import PushStandIn

    await admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    push_service = PushStandIn()
    push_service.start()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        if subprocess.run(
            [str(Path(sys.executable).parent / "oo"), "migrate"],
            env=bench_env(0),
            cwd=ROOT,
            check=False,
        ).returncode:
            return 1
        from backend.db import open_pool
        from backend.domains import install

        install()
        await open_pool()
        t0 = time.perf_counter()
        owners = await seed(args.subscriptions, push_service)
        print(f"seeded {len(owners)} people and subscriptions in {time.perf_counter() - t0:.1f} s")
        workers = [oo("worker", max_jobs=args.max_jobs) for _ in range(args.workers)]
        await asyncio.sleep(4)  # workers import and connect
        if any(w.poll() is not None for w in workers):
            print(f"a worker died; see {LOG_DIR}", file=sys.stderr)
            return 1
        wall, latencies = await run_pass(owners, push_service)
        from backend.notifier.tables import PushAttempt

        logged = await PushAttempt.count()
        refused = len(push_service.received(None)) - len(push_service.received(201))
        delivered = len(latencies)
        print(f"delivered: {delivered}/{len(owners)} · refused by the stand-in: {refused}")
        print(f"attempts logged: {logged}")
        print(f"pushes/s: {delivered / wall:,.0f}")
        if latencies:
            print(
                f"enqueue → delivered: p50 {percentile(latencies, 50):,.0f} ms · "
                f"p99 {percentile(latencies, 99):,.0f} ms · max {max(latencies):,.0f} ms"
            )
        print(f"workers: {args.workers} × max_jobs {args.max_jobs} · target ≤ {TARGET_S:.0f} s")
        print(f"total wall time: {wall:.1f} s")
        return 0 if delivered == len(owners) and refused == 0 else 1
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=15)
            except subprocess.TimeoutExpired:
                w.kill()
        from backend.db import close_pool
        from backend.queue import close_queue
        from backend.redis import close_redis

        await close_queue()
        await close_redis()
        await close_pool()
        push_service.stop()
        await cleanup_redis()
        await admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        for log in sorted(LOG_DIR.iterdir()):
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            if tail:
                print(f"{log.name}: " + " | ".join(tail))
        shutil.rmtree(LOG_DIR, ignore_errors=True)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-jobs", type=int, default=200)
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
