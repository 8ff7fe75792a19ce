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
import glob
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmark the tree this script lives in
    sys.path.insert(0, str(ROOT))

RECOVERY_TARGET_S = 2.0
TIPS_IN_OUTAGE_TARGET = 0.95
RETRY_GRACE_S = 30.0  # after the run, a reaction being retried gets this long to be answered
DRAIN_WAIT_S = 60.0  # the outbox drain runs every 15 s (backend/recommender/jobs.py)
RETRYABLE_HTTP = {429, 502, 503, 504}
# Variables of the environment that would point a bench process at someone else's data.
_SCRUB = ("DATABASE_URL", "REDIS_URL", "OO_REDIS_PREFIX", "OO_VAR_DIR", "OO_PORT", "OO_HOST")

TIP_QUERY = "{ tip { id } }"
FEEDBACK_MUTATION = """
mutation($tipId: ID!, $action: FeedbackAction!, $dwellMs: Int, $crid: String) {
  feedback(tipId: $tipId, action: $action, dwellMs: $dwellMs, clientRequestId: $crid) {
    tip { id } reward errors { code }
  }
}"""
ACTIONS = ("DONE", "SNOOZE", "DISMISS")


# --- own servers (the logic of tests/support/own_postgres.py and own_redis.py) --------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit(f"PostgreSQL's {name} is needed (/usr/lib/postgresql/*/bin)")
    return found[-1]


def _as_postgres(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class OwnPostgres:
    """initdb once into a temporary directory; start, stop (fast) and start again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="oo-load-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                _pg_bin("initdb"), "-D", str(self.datadir), "-A", "trust", "-U", "postgres"
            ),
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        # Its own session: a Ctrl-C at the terminal must not reach the postmaster.
        return subprocess.run(
            _as_postgres(_pg_bin("pg_ctl"), "-D", str(self.datadir), *args),
            capture_output=True,
            start_new_session=True,
            check=False,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c max_connections=200"
        )
        done = self._ctl("-o", options, "-w", "-t", "60", "-l", str(self.datadir / "log"), "start")
        if done.returncode:
            raise RuntimeError(f"own PostgreSQL did not start: {done.stderr.decode()[-2000:]}")
        deadline = time.monotonic() + 30
        while subprocess.run(
            [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        ).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("own PostgreSQL did not accept connections")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)


class OwnRedis:
    """redis-server on a free loopback port, keeping nothing on disk; restarts on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> None:
        import redis

        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("redis-server is needed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError("own Redis did not answer")
                time.sleep(0.05)
        finally:
            client.close()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


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


# --- the deployment -------------------------------------------------------------------------


@dataclass
class Stack:
    """Everything this script started, so it can all be undone."""

    tmp: Path
    pg: OwnPostgres | None = None
    redis: OwnRedis | None = None
    env: dict[str, str] = field(default_factory=dict)
    servers: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    retired: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def teardown(self) -> None:
        for _, proc in self.servers:
            _stop(proc)
        for proc in [*self.workers, *self.retired]:
            _stop(proc)
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.remove()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _base_env(stack: Stack) -> dict[str, str]:
    assert stack.pg is not None
    assert stack.redis is not None
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(
        OO_ENV="production",
        DATABASE_URL=stack.pg.url,
        REDIS_URL=stack.redis.url,
        OO_SECRET_KEYS=secrets.token_urlsafe(48),
        OO_VAR_DIR=str(stack.tmp / "var"),
        OO_HOST="127.0.0.1",
        # Every simulated person is 127.0.0.1: the per-address limit would refuse the bench.
        OO_RATE_GRAPHQL="1000000/minute",
        OO_SNOOZE="30",
        OO_DISMISS="30",
        OO_LLM_BACKGROUND="false",
        OO_SHUTDOWN_GRACE="2",
        PICCOLO_CONF="backend.piccolo_conf",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _oo(*args: str) -> list[str]:
    return [sys.executable, "-m", "backend.cli", *args]


def _spawn(
    stack: Stack, args: list[str], env: dict[str, str], name: str
) -> subprocess.Popen[bytes]:
    log = stack.tmp / f"{name}.log"
    stack.logs.append(log)
    with log.open("ab") as out:
        return subprocess.Popen(
            _oo(*args),
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this script, which stops them itself
        )


def _start_server(stack: Stack, n: int) -> str:
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**stack.env, "OO_PORT": str(port), "OO_BASE_URL": url}
    proc = _spawn(stack, ["serve"], env, f"serve{n}")
    stack.servers.append((url, proc))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{stack.logs[-1].read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


def _start_worker(stack: Stack, n: int) -> subprocess.Popen[bytes]:
    proc = _spawn(stack, ["worker"], stack.env, f"worker{n}")
    stack.workers.append(proc)
    return proc


# --- seeding (runs in a subprocess with the deployment's environment) -----------------------


async def _seed(count: int) -> list[str]:
    from backend.db import close_pool, open_pool
    from backend.identity.service import create_api_token, get_or_create_user
    from backend.integrations.demo import seed_demo_tasks

    await open_pool()
    try:
        tokens = []
        for i in range(count):
            user_id = await get_or_create_user(f"load-{i:04d}@bench.test", f"Load {i}")
            await seed_demo_tasks(user_id, seed=i)
            tokens.append((await create_api_token(user_id, "load bench"))[1])
        return tokens
    finally:
        await close_pool()


# --- the simulated people -------------------------------------------------------------------


@dataclass
class Fault:
    """When the dependency went away and when it was back (monotonic seconds)."""

    kind: str
    start: float | None = None
    back: float | None = None

    def window(self) -> tuple[float, float] | None:
        if self.start is None or self.back is None:
            return None
        return self.start, self.back + RECOVERY_TARGET_S


@dataclass
class Stats:
    """What the clients saw."""

    sent: Counter[str] = field(default_factory=Counter)
    ok_ms: dict[str, list[float]] = field(default_factory=lambda: {"tip": [], "feedback": []})
    errors: list[tuple[float, str, str]] = field(default_factory=list)  # (end, op, code)
    no_tip: int = 0
    retries: int = 0
    status: dict[str, str] = field(default_factory=dict)  # clientRequestId -> last status
    # (op, server) -> [(start, end)] of successful requests, for recovery
    ok_at: dict[tuple[str, int], list[tuple[float, float]]] = field(default_factory=dict)
    # every tip request: (start, end, answered)
    tip_outcomes: list[tuple[float, float, bool]] = field(default_factory=list)
    ok_timed: list[tuple[str, float, float]] = field(default_factory=list)  # (op, start, ms)


def _code_of(response: Any) -> tuple[str, Any]:
    """("ok", data) or (an error code, None): GraphQL extensions.code, else the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("errors"):
        codes = [
            str((e.get("extensions") or {}).get("code") or "GRAPHQL_ERROR") for e in body["errors"]
        ]
        return codes[0], None
    if response.status_code != 200:
        if isinstance(body, dict) and body.get("code"):
            return str(body["code"]), None
        return f"HTTP {response.status_code}", None
    if not isinstance(body, dict) or body.get("data") is None:
        return "NO_DATA", None
    return "ok", body["data"]


class People:
    """`people` clients looping tip → think → feedback against the servers, round-robin."""

    def __init__(self, urls: list[str], tokens: list[str], args: argparse.Namespace) -> None:
        import httpx

        self.urls = urls
        self.tokens = tokens
        self.args = args
        self.stats = Stats()
        self.turn = 0
        self.gate = asyncio.Semaphore(args.concurrency)
        # Idle connections are dropped before uvicorn's 5 s keep-alive closes them: reusing one
        # the server is closing is a client-side ReadError, not a failure of the deployment.
        limits = httpx.Limits(
            max_connections=args.concurrency,
            max_keepalive_connections=args.concurrency,
            keepalive_expiry=2.0,
        )
        timeout = httpx.Timeout(args.timeout_s)
        self.http = [httpx.AsyncClient(base_url=u, limits=limits, timeout=timeout) for u in urls]

    async def close(self) -> None:
        for client in self.http:
            await client.aclose()

    async def _call(
        self, op: str, token: str, payload: dict[str, Any]
    ) -> tuple[str, Any, int, float]:
        import httpx

        server = self.turn % len(self.http)
        self.turn += 1
        async with self.gate:
            self.stats.sent[op] += 1
            started = time.monotonic()
            try:
                response = await self.http[server].post(
                    "/graphql", json=payload, headers={"authorization": f"Bearer {token}"}
                )
                code, data = _code_of(response)
            except httpx.HTTPError as err:
                code, data = f"transport: {type(err).__name__}", None
            ended = time.monotonic()
        if code == "ok":
            self.stats.ok_ms[op].append(1000 * (ended - started))
            self.stats.ok_timed.append((op, started, 1000 * (ended - started)))
            self.stats.ok_at.setdefault((op, server), []).append((started, ended))
        else:
            self.stats.errors.append((ended, op, code))
        return code, data, server, started

    @staticmethod
    def _retryable(code: str) -> bool:
        return (
            code.startswith("transport")
            or code == "SERVICE_UNAVAILABLE"
            or code in {f"HTTP {s}" for s in RETRYABLE_HTTP}
            or code == "RATE_LIMITED"
        )

    async def person(self, i: int, until: float) -> None:
        rng = random.Random(i)
        token = self.tokens[i]
        lo, hi = self.args.think_s
        await asyncio.sleep(rng.uniform(0, hi))  # spread the start
        while time.monotonic() < until:
            code, data, _, started = await self._call("tip", token, {"query": TIP_QUERY})
            self.stats.tip_outcomes.append((started, time.monotonic(), code == "ok"))
            if code != "ok":
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                continue
            tip = data.get("tip")
            if tip is None:
                self.stats.no_tip += 1
                await asyncio.sleep(rng.uniform(lo, hi))
                continue
            think = rng.uniform(lo, hi)
            await asyncio.sleep(think)
            await self._react(rng, token, tip["id"], int(think * 1000), until + RETRY_GRACE_S)

    async def _react(
        self, rng: random.Random, token: str, tip_id: str, dwell_ms: int, give_up_at: float
    ) -> None:
        crid = f"load-{uuid.uuid4()}"
        self.stats.status[crid] = "pending"
        variables = {
            "tipId": tip_id,
            "action": rng.choice(ACTIONS),
            "dwellMs": dwell_ms,
            "crid": crid,
        }
        backoff = 0.2
        while True:
            code, data, _, _ = await self._call(
                "feedback", token, {"query": FEEDBACK_MUTATION, "variables": variables}
            )
            if code == "ok":
                errors = data["feedback"]["errors"]
                if errors:  # a typed refusal: nothing stored, the client is told so
                    code = str(errors[0]["code"])
                    self.stats.errors.append((time.monotonic(), "feedback", code))
                    self.stats.status[crid] = code
                else:
                    self.stats.status[crid] = "acked"
                return
            self.stats.status[crid] = code
            if not self._retryable(code) or time.monotonic() + backoff > give_up_at:
                return
            self.stats.retries += 1
            await asyncio.sleep(backoff * rng.uniform(0.5, 1.5))
            backoff = min(backoff * 2, 2.0)


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


# --- the report -------------------------------------------------------------------------------


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _report(
    stats: Stats,
    observed: Observed,
    fault: Fault,
    run_s: float,
    drained: bool,
    pending_s: float,
    db: dict[str, Any],
    servers: int,
) -> None:
    print("\n=== figures ===")
    total = sum(stats.sent.values())
    print(
        f"requests sent           {total:,} in {run_s:.0f} s ({total / run_s:.1f}/s): "
        f"tip {stats.sent['tip']:,}, feedback {stats.sent['feedback']:,} "
        f"(of which retries {stats.retries:,}); tip answered null {stats.no_tip:,}"
    )
    codes = Counter(f"{op} {code}" for _, op, code in stats.errors)
    print(
        "errors by code          "
        + (", ".join(f"{k}: {v}" for k, v in codes.most_common()) or "none")
    )
    for op in ("tip", "feedback"):
        lat = stats.ok_ms[op]
        print(
            f"{op:<8} latency        p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms "
            f"(n={len(lat):,}, mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms, "
            f"max {max(lat, default=float('nan')):.0f} ms)"
        )
        window = fault.window()
        if window is not None:
            calm = [
                ms for o, t, ms in stats.ok_timed if o == op and not window[0] <= t <= window[1]
            ]
            print(
                f"{op:<8} outside fault   p50 {_pct(calm, 50):.1f} ms, p99 {_pct(calm, 99):.1f} ms"
            )
    acked = {c for c, s in stats.status.items() if s == "acked"}
    stored = set(db["request_ids"])
    lost = acked - stored
    stored_failed = {c for c in stored if stats.status.get(c, "acked") != "acked"}
    never_answered = Counter(s for c, s in stats.status.items() if s != "acked" and c not in stored)
    print(
        f"reactions               acknowledged {len(acked):,}, stored {db['feedback_rows']:,} "
        f"(with our clientRequestId {len(stored & set(stats.status)):,}), "
        f"not stored and not acknowledged {sum(never_answered.values()):,}"
        + (f" {dict(never_answered)}" if never_answered else "")
    )
    print(f"lost (acked, not stored) {len(lost):,}   target 0   {_mark(not lost)}")
    print(
        f"stored but reported failed {len(stored_failed):,}   target 0   "
        f"{_mark(not stored_failed)}"
        + (
            f"  last client status: {dict(Counter(stats.status[c] for c in stored_failed))}"
            if stored_failed
            else ""
        )
    )
    extra = {p: u - db["feedback_rows"] for p, u in db["updates"].items()}
    dup = db["same_tip"] + sum(max(0, v) for v in extra.values())
    print(
        f"duplicates              {dup}   target 0   {_mark(dup == 0)}  (feedback rows sharing a "
        f"tip: {db['same_tip']}; policy updates minus stored reactions: {extra})"
    )
    print(
        f"outbox                  {'drained' if drained else 'NOT drained'} "
        f"after {pending_s:.0f} s; "
        f"still pending {db['outbox_pending']}, given up {db['outbox_given_up']}"
    )
    window = fault.window()
    if window is None:
        outside = len(stats.errors)
        print(f"errors (no fault)       {outside}   target 0   {_mark(outside == 0)}")
    else:
        lo, hi = window
        inside = sum(1 for t, _, _ in stats.errors if lo <= t <= hi)
        outside_codes = Counter(f"{op} {code}" for t, op, code in stats.errors if not lo <= t <= hi)
        outside = sum(outside_codes.values())
        print(
            f"errors outside the fault window {outside}   target 0   {_mark(outside == 0)}  "
            f"(inside {inside}; window = fault start .. back + {RECOVERY_TARGET_S:g} s)"
            + (f" {dict(outside_codes)}" if outside_codes else "")
        )
    if fault.start is not None and fault.back is not None:
        back = fault.back
        firsts: list[float | None] = []
        first_sent: list[float] = []
        for op in ("tip", "feedback"):
            for server in range(servers):
                after = [end for start, end in stats.ok_at.get((op, server), []) if start >= back]
                firsts.append(min(after) - back if after else None)
                sent_after = [s for s, _ in stats.ok_at.get((op, server), []) if s >= back]
                if sent_after:
                    first_sent.append(min(sent_after) - back)
        if any(f is None for f in firsts):
            print("recovery                NOT recovered on every server (no success after)")
        else:
            rec = max(f for f in firsts if f is not None)
            # A first success can only be seen when a request arrives: the mean gap between
            # requests of one kind on one server bounds how finely recovery is measured.
            sent = {op: stats.sent[op] / servers for op in ("tip", "feedback")}
            gap = max(run_s / n for n in sent.values() if n) if any(sent.values()) else 0.0
            print(
                f"recovery                {rec:.2f} s after {fault.kind} was back (first tip AND "
                f"feedback on both servers)   target ≤ {RECOVERY_TARGET_S:g} s   "
                f"{_mark(rec <= RECOVERY_TARGET_S)}  (resolution: one request per ~{gap:.2f} s; "
                f"the last of those first successes was sent {max(first_sent):.2f} s after)"
            )
        # Tip requests that started while the dependency was away: answered at all?
        during = [ok for t, _, ok in stats.tip_outcomes if fault.start <= t <= back]
        share = sum(during) / len(during) if during else float("nan")
        slow = [ms for op, t, ms in stats.ok_timed if op == "tip" and fault.start <= t <= back]
        target = (
            f"   target ≥ {TIPS_IN_OUTAGE_TARGET:.0%}   {_mark(share >= TIPS_IN_OUTAGE_TARGET)}"
            if fault.kind == "redis"
            else ""
        )
        print(
            f"tips answered while {fault.kind} away {share:.1%} ({sum(during)}/{len(during)} "
            f"asked in the outage; answered in p50 {_pct(slow, 50):.0f} ms, "
            f"max {max(slow, default=float('nan')):.0f} ms)" + target
        )
    print(f"DB connections          peak {observed.pg_peak}, end {observed.pg_end}")
    mem = observed.redis_used_memory
    print(
        f"Redis used_memory       {mem / 1024 / 1024:.2f} MiB" if mem else "Redis used_memory n/a"
    )
    print(f"workers dead at the end {observed.workers_died} (of {2})")
    print(f"tips served (DB)        {db['served']:,}")


def _log_findings(logs: list[Path]) -> None:
    """The exceptions the servers and workers logged (tracebacks' last lines), most common first."""
    import re

    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)\b.*)$")
    found: Counter[str] = Counter()
    unexpected = 0
    for log in logs:
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            if "unexpected error" in line or "unhandled error" in line:
                unexpected += 1
            match = pattern.match(line)
            if match:
                found[f"{log.stem}: {match.group(1)[:160]}"] += 1
    print(f"logged unexpected errors {unexpected}")
    for line, n in found.most_common(8):
        print(f"  {n:>5} × {line}")


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
