"""Shared fixtures: factories for rows, a live server and worker over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running `oo serve` (plus an `oo worker`) in subprocesses."""

    url: str
    process: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes] | None
    log: Path

    def client(self, **kwargs: object) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # type: ignore[arg-type]


SERVER_START_S = 120
"""How long `oo serve` may take to answer /healthz: a few seconds normally, far more when the
machine is loaded (CI must pass on a busy machine too)."""


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{log.read_text()[-3000:]}")


def start_server(
    var_dir: Path,
    with_worker: bool = True,
    extra_env: dict[str, str] | None = None,
    worker_env: dict[str, str] | None = None,
) -> LiveServer:
    """Start `oo serve` (and `oo worker`) against this run's database and Redis.

    Every worker of a test run takes jobs from the same queue, whichever server enqueued them,
    so each must be wired to the same provider stand-ins (`worker_env`): a job picked up by a
    worker without them would fail, or try the real provider.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OO_PORT": str(port), "OO_BASE_URL": url, **(extra_env or {})}
    log = var_dir / f"server-{port}.log"
    oo = str(Path(sys.executable).parent / "oo")
    process = subprocess.Popen(
        [oo, "serve"], env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    worker = None
    if with_worker:
        worker = subprocess.Popen(
            [oo, "worker"],
            env={**env, **(worker_env or {})},
            cwd=ROOT,
            stdout=(var_dir / f"worker-{port}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(url, process, log)
    except Exception:
        stop_server(LiveServer(url, process, worker, log))
        raise
    return LiveServer(url, process, worker, log)


def stop_server(server: LiveServer) -> None:
    """Stop what start_server started."""
    for proc in (server.process, server.worker):
        if proc is None or proc.poll() is not None:
            continue
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def live_server(var_dir: Path, providers_env: dict[str, str]) -> Iterator[LiveServer]:
    """One server + worker for the session (no providers configured on the server itself)."""
    server = start_server(var_dir, worker_env=providers_env)
    yield server
    stop_server(server)


@dataclass
class DemoPerson:
    """A signed-up person with demo tasks."""

    user_id: str
    email: str


async def make_person(tasks: bool = True, seed: int = 7, role: str = "user") -> DemoPerson:
    """Create a user (unique e-mail) with synthetic demo tasks."""
    from backend.identity.service import get_or_create_user
    from backend.identity.tables import User
    from backend.integrations.demo import seed_demo_tasks

    email = f"person-{uuid.uuid4().hex[:10]}@example.test"
    user_id = await get_or_create_user(email, "Test Person")
    if role != "user":
        # Not set_role: a person this new has no credential any cache could hold, so there is
        # nothing to announce, and the helper stays free of Redis — page tests call it on a
        # fresh event loop each time, where the process's Redis client (bound to the first
        # loop) cannot go.
        await User.update({User.role: role}).where(User.id == user_id)
    if tasks:
        await seed_demo_tasks(user_id, seed=seed)
    return DemoPerson(user_id, email)


@pytest.fixture
async def person() -> DemoPerson:
    """A fresh person with demo tasks."""
    return await make_person()


@pytest.fixture
async def token_for() -> object:
    """Create a personal API token for a person: `await token_for(person)`."""
    from backend.identity.service import create_api_token

    async def make(p: DemoPerson) -> str:
        return (await create_api_token(p.user_id, "test"))[1]

    return make
