"""The `sweep` variant of bench/tip_latency.py: cached tip and fresh pick by open tasks per
person and by population, with the server's memory after every round.

Run:  .venv/bin/python bench/tip_latency.py --variant sweep [--clients 10] [--requests 600]
          [--fresh-requests 150] [--warmup 100] [--tasks 20,200,2000] [--people 1000,100000]
          [--rounds 3]

One PostgreSQL deployment (a fresh database oo_bench_<random>, the shared Redis under a private
key prefix; both removed at the end) and one `oo serve` process for the whole run:
  1. `--clients` measured people per task count (20 / 200 / 2,000 open demo tasks each), seeded
     through the app's own functions, each with a personal API token;
  2. the population is filled up to the first `--people` figure with people who look used
     (a token, 20 demo tasks of which 5 done, 5 answered tips), written by `INSERT … SELECT
     generate_series` inside PostgreSQL, not through the API;
  3. `--rounds` rounds at that population, then the population grows to each further `--people`
     figure (same bulk insert, then ANALYZE) and one round runs at each size;
  4. a round, per task count: the bare `GET /healthz`, the cached `tip` (the unanswered tip
     shown again) and the fresh-pick loop (`feedback` SNOOZE → `nextTip`: the reaction stored,
     the policy updated, the next tip picked and logged, all in one request), each with the same
     closed-loop clients, in three alternating blocks (healthz, tip, fresh, healthz, …) so a
     shared machine's drift hits all three alike; the server's RSS is printed after each round.

Targets (ratios to the bare endpoint measured in the same round): cached p99 ≤ 1.5×; fresh p99
≤ 2.5× at 200 tasks and ≤ 3× at 2,000; server CPU per cached tip ≤ 3× the bare endpoint's; the
population changes a p99 ratio by ≤ 10 %. OO_SNOOZE=1 s so that a person's tasks are never all
snoozed by the loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import tip_latency_deploy as deploy

CACHED_RATIO = 1.5
FRESH_RATIO = {200: 2.5, 2000: 3.0}
CPU_RATIO = 3.0
POPULATION_CHANGE = 0.10


# --- seeding ---------------------------------------------------------------------------------


async def seed_tasks(user_id: str, count: int, seed: int) -> None:
    """`count` open demo tasks for a person (the demo's generator, repeated titles numbered)."""
    import random
    from datetime import UTC, datetime

    from backend.integrations.tables import DemoTask
    from backend.integrations.taskgen import generate_tasks

    tasks = generate_tasks(random.Random(seed), datetime.now(UTC), count=count)
    rows = [
        DemoTask(
            user=user_id,
            project=t.project,
            content=t.content,
            priority=t.priority,
            due_date=t.due_date,
            recur_days=t.recur_days,
            added_at=t.added_at,
        )
        for t in tasks
    ]
    for start in range(0, len(rows), 500):
        await DemoTask.insert(*rows[start : start + 500])


async def _seed_groups(task_counts: list[int], clients: int) -> dict[str, list[str]]:
    from backend.identity.service import create_api_token, get_or_create_user

    groups: dict[str, list[str]] = {}
    for count in task_counts:
        tokens = []
        for i in range(clients):
            user_id = await get_or_create_user(f"sweep-{count}-{i:03d}@bench.test", f"Sweep {i}")
            await seed_tasks(user_id, count, seed=count * 1000 + i)
            tokens.append((await create_api_token(user_id, "bench"))[1])
        groups[str(count)] = tokens
    return groups


def seed_groups_main(task_counts: list[int], clients: int) -> None:
    """`--seed-sweep`: the measured people of every task count; prints {count: [tokens]}."""
    from backend.db import close_pool, open_pool

    async def run() -> dict[str, list[str]]:
        await open_pool()
        try:
            return await _seed_groups(task_counts, clients)
        finally:
            await close_pool()

    print(json.dumps(asyncio.run(run())))


_GROW_SQL = (
    """CREATE TEMP TABLE pop AS SELECT gen_random_uuid() AS id, g FROM generate_series($1::int,
    $2::int) AS g""",
    """INSERT INTO app_user (id, email, name, role, timezone, picture, is_demo, created_at)
    SELECT id, 'pop-' || g || '@bench.test', 'Pop ' || g, 'user',
           (ARRAY['UTC','Europe/Paris','America/New_York','Asia/Tokyo'])[1 + g % 4], '', false,
           now() - make_interval(days => g % 60) FROM pop""",
    """INSERT INTO api_token (id, "user", name, token_hash, created_at)
    SELECT gen_random_uuid(), id, 'pop', encode(sha256(('pop-' || g)::bytea), 'hex'), now()
    FROM pop""",
    """INSERT INTO demo_task (id, "user", project, content, description, priority, due_date,
        recur_days, added_at, completed_at, is_deleted)
    SELECT gen_random_uuid(), p.id, (ARRAY['Work','Home','Health','Errands'])[1 + i % 4],
           'Task ' || i || ' of ' || p.g, '', 1 + (i * 7 + p.g) % 4,
           current_date + ((i * 13 + p.g) % 40 - 10), 0, now() - interval '20 days',
           CASE WHEN i % 4 = 0 THEN now() - make_interval(days => i) END, false
    FROM pop p, generate_series(1, 20) AS i""",
    """INSERT INTO served_tip (id, "user", item_ref, source, kind, content, detail, features,
        candidate_count, policy_id, policy_version, score, propensity, latency_ms, served_at,
        reacted_at, project, reaction, reward, explanation, candidates)
    SELECT gen_random_uuid(), p.id, 'demo:pop-' || p.g || '-' || i, 'demo', 'task',
           'Task ' || i || ' of ' || p.g, '{}', '{"priority": 2.0}', 15, 'random', '1', 0.5,
           0.07, 3.0, now() - make_interval(hours => i * 20 + p.g % 20),
           now() - make_interval(hours => i * 20 + p.g % 20) + interval '40 seconds', 'Work',
           (ARRAY['done','snooze','dismiss'])[1 + (i + p.g) % 3], 0.5, '{}', '{}'
    FROM pop p, generate_series(1, 5) AS i""",
    """INSERT INTO feedback (id, tip, "user", action, dwell_ms, dwell_source, reward,
        reward_source, created_at, answer)
    SELECT gen_random_uuid(), s.id, s."user", s.reaction, 4000, 'client', 0.5, 'reaction',
           s.reacted_at, s.reaction
    FROM served_tip s JOIN pop p ON p.id = s."user" """,
    "DROP TABLE pop",
)


async def grow_population(dsn: str, target: int) -> tuple[int, float]:
    """Add people until there are `target`; returns (people added, seconds)."""
    import asyncpg

    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        have = int(await conn.fetchval("SELECT count(*) FROM app_user"))
        first = int(await conn.fetchval("SELECT count(*) FROM app_user WHERE email LIKE 'pop-%'"))
        add = target - have
        if add > 0:
            async with conn.transaction():
                await conn.execute(_GROW_SQL[0], first + 1, first + add)
                for sql in _GROW_SQL[1:]:
                    await conn.execute(sql)
            await conn.execute("ANALYZE")
        return max(0, add), time.perf_counter() - started
    finally:
        await conn.close()


# --- the variant -----------------------------------------------------------------------------


def _round(dep: deploy.Deployment, url: str, groups: Any, args: Any, me: str) -> dict[str, Any]:
    assert dep.server is not None
    plan = dep.var_dir / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "url": url,
                "groups": groups,
                "requests": args.requests,
                "fresh_requests": args.fresh_requests,
                "warmup": args.warmup,
                "server_pid": dep.server.pid,
            }
        )
    )
    import os

    out = deploy._run([sys.executable, me, "--sweep-load", str(plan)], {**os.environ}, "load")
    result: dict[str, Any] = json.loads(out)
    return result


def run(args: Any, me: str) -> bool:
    """Prepare, seed, serve; rounds at each population; print the table; clean up."""
    task_counts = [int(x) for x in args.tasks.split(",")]
    people = [int(x) for x in args.people.split(",")]
    dep = deploy._prepare("postgres")
    dep.env.update(OO_SNOOZE="1", OO_DISMISS="1")
    dsn = dep.env["DATABASE_URL"]
    ok = True
    try:
        deploy._run([deploy._oo(), "migrate"], dep.env, "oo migrate")
        cmd = [sys.executable, me, "--seed-sweep", "--tasks", args.tasks]
        groups = json.loads(deploy._run([*cmd, "--clients", str(args.clients)], dep.env, "seed"))
        url = deploy._start_server(dep)
        assert dep.server is not None
        plan = [(people[0], r + 1) for r in range(args.rounds)] + [(p, 1) for p in people[1:]]
        rows: list[tuple[int, int, dict[str, Any], float]] = []
        for population, n in plan:
            if n == 1:
                added, secs = asyncio.run(grow_population(dsn, population))
                print(f"population {population:,}: {added:,} people added in {secs:.1f} s")
            started = time.perf_counter()
            result = _round(dep, url, groups, args, me)
            rss = deploy._tree_rss(dep.server.pid)
            print(
                f"round at {population:,} people (#{n}) in {time.perf_counter() - started:.0f} s;"
                f" server RSS {rss:.1f} MiB",
                flush=True,
            )
            rows.append((population, n, result, rss))
        ok = report(rows, task_counts, args.clients)
        ok = _server_errors(dep.var_dir / "server.log") and ok
    finally:
        deploy._teardown(dep)
    return ok


def _server_errors(log_file: Path) -> bool:
    """Print what the server logged as errors (each traceback's exception line, counted)."""
    from collections import Counter

    lines = log_file.read_text(errors="replace").splitlines()
    found: Counter[str] = Counter()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next((j for j in range(i + 1, len(lines)) if not lines[j].startswith(" ")), i)
            found[lines[end][:200]] += 1
        elif "ERROR" in line:
            found[line[:200]] += 1
    for what, times in found.most_common(5):
        print(f"server log x{times}: {what}")
    return not found


# --- the table -------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def report(rows: list[tuple[int, int, dict[str, Any], float]], counts: list[int], n: int) -> bool:
    """The table; False when any request failed."""
    print(
        f"\n{n} closed-loop clients per phase; p99 in ms; ratio = p99 / healthz p99 of the same"
        " round; CPU = server CPU ms per request"
    )
    head = (
        "people   round tasks | healthz p99  cpu | cached p99 ratio  cpu  cpu× "
        "| fresh p50   p99 ratio   cpu | RSS MiB"
    )
    print(head)
    print("-" * len(head))
    ok = True
    ratios: dict[tuple[int, int, str], list[float]] = {}
    cpus: dict[tuple[int, int, str], list[float]] = {}
    for population, rnd, result, rss in rows:
        for count in counts:
            r = result[str(count)]
            hz, tip, fresh = r["healthz"], r["tip"], r["fresh"]
            c_ratio, f_ratio = _ratio(tip["p99"], hz["p99"]), _ratio(fresh["p99"], hz["p99"])
            cpu_x = _ratio(tip["server_cpu_ms_per_req"], hz["server_cpu_ms_per_req"])
            f_target = FRESH_RATIO.get(count)
            f_mark = _mark(f_ratio <= f_target) if f_target else "-"
            print(
                f"{population:>7,} {rnd:>5} {count:>5} | {hz['p99']:>10.1f} "
                f"{hz['server_cpu_ms_per_req']:>4.2f} | {tip['p99']:>10.1f} {c_ratio:>5.2f} "
                f"{tip['server_cpu_ms_per_req']:>4.2f} {cpu_x:>5.2f} | {fresh['p50']:>9.1f} "
                f"{fresh['p99']:>5.0f} {f_ratio:>5.2f} {fresh['server_cpu_ms_per_req']:>5.1f} "
                f"| {rss:>7.1f}   cached {_mark(c_ratio <= CACHED_RATIO)}, "
                f"cpu {_mark(cpu_x <= CPU_RATIO)}, fresh {f_mark}"
            )
            ratios.setdefault((population, count, "cached"), []).append(c_ratio)
            ratios.setdefault((population, count, "fresh"), []).append(f_ratio)
            cpus.setdefault((population, count, "cached"), []).append(tip["server_cpu_ms_per_req"])
            cpus.setdefault((population, count, "fresh"), []).append(fresh["server_cpu_ms_per_req"])
            for label, failures in (
                ("warm-up", r["warmup_failures"]),
                ("healthz", hz["failures"]),
                ("cached", tip["failures"]),
                ("fresh", fresh["failures"]),
            ):
                for problem, times in failures.items():
                    ok = False
                    print(f"      FAILED {label} x{times}: {problem}")
    populations = sorted({p for p, *_ in rows})
    rss_first = [rss for p, _, _, rss in rows if p == populations[0]]
    print(f"\nRSS after each round at {populations[0]:,} people: {rss_first} MiB")
    for big in populations[1:]:
        for count in counts:
            for kind in ("cached", "fresh"):
                firsts = ratios[(populations[0], count, kind)]
                small = sum(firsts) / len(firsts)  # the mean of the rounds at the first size
                large = ratios[(big, count, kind)][0]
                change = large / small - 1  # either way: a faster big population is noise too
                cpu_firsts = cpus[(populations[0], count, kind)]
                cpu_small = sum(cpu_firsts) / len(cpu_firsts)
                cpu_large = cpus[(big, count, kind)][0]
                print(
                    f"population {populations[0]:,} → {big:,}, {count} tasks, {kind}: p99 ratio"
                    f" {small:.2f} → {large:.2f} ({change:+.0%};"
                    f" target ≤ {POPULATION_CHANGE:.0%}: {_mark(abs(change) <= POPULATION_CHANGE)})"
                    ";"
                    f" server CPU/request {cpu_small:.2f} → {cpu_large:.2f} ms"
                    f" ({cpu_large / cpu_small - 1:+.0%})"
                )
    return ok


def main_helper(argv: list[str]) -> bool:
    """The helper modes of this variant; True when one ran."""
    if "--seed-sweep" in argv:
        tasks = argv[argv.index("--tasks") + 1]
        clients = int(argv[argv.index("--clients") + 1])
        seed_groups_main([int(x) for x in tasks.split(",")], clients)
        return True
    if "--sweep-load" in argv:
        from tip_latency_load import sweep_load_main

        sweep_load_main(Path(argv[argv.index("--sweep-load") + 1]))
        return True
    return False
