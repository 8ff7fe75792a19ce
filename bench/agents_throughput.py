"""Throughput of the agent fan-out: 10,000 people × 5 agents on 2 arq workers.

Run:  .venv/bin/python bench/agents_throughput.py [--users 10000] [--workers 2] [--max-jobs 500]
                                                 [--jobs per-group|per-person|per-agent]

What it does
  1. prepares a private deployment: a fresh database oo_bench_agents_<random> on
     postgres://postgres@127.0.0.1:5432 and the shared Redis at redis://127.0.0.1:6379/0 under
     the key prefix oo-bench-agents-<random>:, then `oo migrate`;
  2. (after 3) seeds N people with histories from the task generator (integrations/taskgen.py):
     40–90 completed tasks each over the last 45 days, at hours drawn from one of three
     personas (morning, office hours, evening), in one of five time zones (COPY, a few seconds);
  3. starts W `oo worker` processes (each OO_WORKER_MAX_JOBS concurrent jobs) before seeding,
     and waits until they are up and idle (their startup LLM refresh finds nobody yet);
  4. runs the fan-out once (the same `fan_out()` the cron calls: one job per group of ~50
     people running every eligible agent of each, enqueued in batches; `--jobs per-person` and
     `per-agent` are the earlier shapes, for an A/B on the same machine) and waits until every
     agent run has stored its output,
     printing progress and jobs/s each second (the workers also run what changed snippets
     trigger — tip-candidate generation, deferred 10 s — as they would in production);
  5. checks every job stored its output, prints the figures and a final line
     `total wall time: N s` (fan-out start → last job done; target ≤ 30 s);
  6. cleans up: stops the workers, drops the database, deletes the run's Redis keys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
TARGET_S = 30.0
ZONES = ("Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC")
# Hour weights per persona (local time): when their completions happen.
PERSONAS = {
    "morning": [0] * 6 + [3, 6, 8, 8, 6, 4, 3, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0],
    "office": [0] * 8 + [2, 5, 6, 6, 3, 5, 6, 6, 4, 2, 1, 1, 0, 0, 0, 0],
    "evening": [0] * 8 + [1, 1, 1, 1, 2, 2, 2, 2, 3, 4, 6, 8, 8, 6, 3, 1],
}
RUN = secrets.token_hex(4)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DB_NAME = f"oo_bench_agents_{RUN}"
PREFIX = f"oo-bench-agents-{RUN}:"


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
        OO_WORKER_MAX_JOBS=str(max_jobs),
        # The bench starts the fan-out itself; an hourly cron will not fire a second one
        # during a one-minute run unless it happens to cross the hour.
        OO_AGENTS_INTERVAL_MIN="60",
        PICCOLO_CONF="backend.piccolo_conf",
    )
    return env


def _tasks_for(i: int, now: datetime) -> tuple[list[tuple[Any, ...]], str]:
    from backend.integrations.taskgen import generate_tasks

    rng = random.Random(i)
    zone = ZONES[i % len(ZONES)]
    weights = PERSONAS[list(PERSONAS)[i % len(PERSONAS)]]
    user_id = uuid.uuid4()  # fresh per run: job ids (and arq result keys) never collide
    rows = []
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    for task in generate_tasks(rng, now, count=rng.randint(40, 90)):
        day = (now - timedelta(days=rng.randint(0, 44))).astimezone(tz)
        hour = rng.choices(range(24), weights=weights)[0]
        done_at = day.replace(hour=hour, minute=rng.randint(0, 59)).astimezone(UTC)
        rows.append(
            (
                uuid.uuid4(),
                user_id,
                task.project,
                task.content,
                "",
                task.priority,
                task.due_date,
                0,
                min(task.added_at, done_at),
                done_at,
                False,
            )
        )
    return rows, zone


async def seed(users: int) -> int:
    """People and their completed tasks, by COPY (bench data, not app writes)."""
    import asyncpg

    now = datetime.now(UTC)
    conn = await asyncpg.connect(bench_env(0)["DATABASE_URL"])
    try:
        people: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        for i in range(users):
            rows, zone = _tasks_for(i, now)
            uid = rows[0][1]
            people.append((uid, f"bench-{i}@example.test", f"Bench {i}", "user", zone, False, now))
            tasks.extend(rows)
        await conn.copy_records_to_table(
            "app_user",
            records=people,
            columns=["id", "email", "name", "role", "timezone", "is_demo", "created_at"],
        )
        await conn.copy_records_to_table(
            "demo_task",
            records=tasks,
            columns=[
                "id",
                "user",
                "project",
                "content",
                "description",
                "priority",
                "due_date",
                "recur_days",
                "added_at",
                "completed_at",
                "is_deleted",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return len(tasks)


async def admin_sql(sql: str) -> None:
    """One statement on the maintenance database."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


LOG_DIR = Path(tempfile.mkdtemp(prefix=f"oo-bench-agents-{RUN}-"))


def oo(*args: str, max_jobs: int = 0) -> subprocess.Popen[bytes]:
    """Start an `oo` subcommand in this run's environment (output to a log file: a pipe
    nobody reads would block the worker once full)."""
    log = LOG_DIR / f"{args[0]}-{len(list(LOG_DIR.iterdir()))}.log"
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "oo"), *args],
        env=bench_env(max_jobs),
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def run_pass(shape: str = "per-group") -> tuple[float, int]:
    """Fan out once and wait until every agent run's output is stored; returns (wall seconds,
    agent runs).

    Progress counts stored outputs, not the queue: the queue also holds what agent runs
    trigger downstream (tip-candidate generation, deferred 10 s), which is not this pass.
    """
    from backend.profile.jobs import fan_out

    started = time.perf_counter()
    from agents_shapes import fan_out_per_agent, fan_out_per_person

    shapes = {"per-group": fan_out, "per-person": fan_out_per_person}
    pairs, added = await shapes.get(shape, fan_out_per_agent)()
    print(
        f"fan-out: {added} jobs ({pairs} agent runs) enqueued in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    last_done, last_t = 0, started
    while True:
        await asyncio.sleep(1.0)
        done = await count_outputs()
        now = time.perf_counter()
        rate = (done - last_done) / (now - last_t)
        print(
            f"progress: {done}/{pairs} agent runs done · {rate:,.0f} runs/s now · "
            f"{done / (now - started):,.0f} runs/s overall",
            flush=True,
        )
        last_done, last_t = done, now
        if done >= pairs:
            break
    return time.perf_counter() - started, pairs


async def wait_idle(workers: int, limit_s: float = 600.0) -> None:
    """Wait until every worker is up and idle, so the pass starts on idle workers.

    A fresh worker runs the LLM refresh cron at startup (`run_at_startup`: people get tip
    candidates at once), one generation job per active person — jobs queued ahead of the
    fan-out here, and not the agent pass. Idle means: every worker has beaten (it finished
    starting up and polls the queue) since the queue was last seen non-empty, and each says
    it runs nothing. (A first version waited for an empty queue only, which it also is before
    a slow-starting worker has queued its startup jobs: the pass then began behind them.)
    """
    from backend.heartbeat import beats
    from backend.queue import get_queue, queue_name

    queue = await get_queue()
    started = time.perf_counter()
    first = None
    busy_at = time.time()
    while time.perf_counter() - started < limit_s:
        queued = int(await queue.zcard(queue_name()))
        first = queued if first is None else max(first, queued)
        if queued:
            busy_at = time.time()
            print(f"startup jobs: {queued} still queued (LLM refresh at worker start)", flush=True)
        else:
            live = await beats("worker")
            if len(live) >= workers and all(
                b.at > busy_at and not b.figures.get("jobs_running") for b in live
            ):
                break
        await asyncio.sleep(1.0)
    print(f"workers idle after {time.perf_counter() - started:.1f} s ({first or 0} startup jobs)")


async def count_outputs() -> int:
    """Stored agent outputs."""
    from backend.profile.tables import AgentOutput

    return int(await AgentOutput.count())


async def cleanup_redis(user_ids: set[str]) -> None:
    """The run's prefixed keys, and arq's own keys of this run's jobs (ids name our users or
    carry our prefix)."""
    from redis.asyncio import Redis

    client = Redis.from_url(SHARED_REDIS)
    try:
        doomed: list[bytes] = []
        async for k in client.scan_iter(match=f"{PREFIX}*", count=5000):
            doomed.append(k)
        for pattern in ("arq:job:*", "arq:result:*", "arq:retry:*", "arq:in-progress:*"):
            async for k in client.scan_iter(match=pattern, count=5000):
                # Per-person job ids name our people; group job ids carry our key prefix.
                if PREFIX in k.decode() or any(u in user_ids for u in UUID_RE.findall(k.decode())):
                    doomed.append(k)
        for start in range(0, len(doomed), 5000):
            await client.delete(*doomed[start : start + 5000])
    finally:
        await client.aclose()


async def main_async(args: argparse.Namespace) -> int:
    """The whole run; returns the exit status."""
    from process_cpu import cpu_s, load_line, pg_cpu_s

    for key, value in bench_env(args.max_jobs).items():
        os.environ[key] = value
    await admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    workers: list[subprocess.Popen[bytes]] = []
    user_ids: set[str] = set()
    try:
        if subprocess.run(
            [str(Path(sys.executable).parent / "oo"), "migrate"],
            env=bench_env(0),
            cwd=ROOT,
            check=False,
        ).returncode:
            return 1
        # Workers first, on an empty database: a fresh worker's LLM refresh (one generation
        # per active person, at startup) then has nobody to write for, instead of holding the
        # pass back behind 10,000 generations (minutes on a busy machine). The pass still
        # triggers a generation per person, as a first pass does in production.
        workers = [oo("worker", max_jobs=args.max_jobs) for _ in range(args.workers)]
        await asyncio.sleep(3)  # workers import and connect
        for w in workers:
            if w.poll() is not None:
                print(f"a worker died; see {LOG_DIR}", file=sys.stderr)
                return 1
        await wait_idle(args.workers)
        hour = datetime.now(UTC).hour
        t0 = time.perf_counter()
        rows = await seed(args.users)
        seeded_s = time.perf_counter() - t0
        print(f"seeded {args.users} people, {rows} completed tasks in {seeded_s:.1f} s")
        from backend.db import open_pool

        await open_pool()
        from backend.identity.service import live_user_zones

        user_ids = set(await live_user_zones())
        pg_before = pg_cpu_s(DB_NAME)
        cpu_before = cpu_s(workers)
        wall, jobs = await run_pass(args.jobs)
        cpu = cpu_s(workers) - cpu_before
        pg_cpu = pg_cpu_s(DB_NAME, pg_before)
        stored = await count_outputs()
        print(f"agent runs: {jobs} · outputs stored: {stored} · {jobs / wall:,.0f} runs/s")
        print(f"jobs: {args.jobs} · worker CPU {cpu:.1f} s · {cpu / jobs * 1000:.2f} ms per run")
        print(f"PostgreSQL CPU (this run's connections) {pg_cpu:.1f} s · {load_line()}")
        print(f"workers: {args.workers} × max_jobs {args.max_jobs} · target ≤ {TARGET_S:.0f} s")
        print(f"total wall time: {wall:.1f} s")
        if datetime.now(UTC).hour != hour:
            # The LLM refresh cron runs at minute 0: one generation per person, queued ahead.
            print("warning: the run crossed the hour (the hourly LLM refresh ran in it)")
        return 0 if stored == jobs == args.users * 5 else 1
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
        await cleanup_redis(user_ids)
        await admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        for log in sorted(LOG_DIR.iterdir()):
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            if tail:
                print(f"{log.name}: " + " | ".join(tail))
        shutil.rmtree(LOG_DIR, ignore_errors=True)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-jobs", type=int, default=500)
    parser.add_argument(
        "--jobs",
        choices=("per-group", "per-person", "per-agent"),
        default="per-group",
        help="per-person: ADR 0030's fan-out; per-agent: the one before; for an A/B",
    )
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
