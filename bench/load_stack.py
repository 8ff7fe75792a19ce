"""bench/load.py's deployment: its own PostgreSQL and Redis (never the machine's shared ones),
2 `oo serve` + 2 `oo worker` on them, and the seeding of people — all undone afterwards."""

from __future__ import annotations

import contextlib
import glob
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

ROOT = Path(__file__).resolve().parent.parent
# Variables of the environment that would point a bench process at someone else's data.
_SCRUB = ("DATABASE_URL", "REDIS_URL", "OO_REDIS_PREFIX", "OO_VAR_DIR", "OO_PORT", "OO_HOST")

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
        OO_RATE_GRAPHQL_COST="1000000000/minute",
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
