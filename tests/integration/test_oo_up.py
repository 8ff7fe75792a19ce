"""`oo up` with no services: embedded Redis and SQLite under OO_VAR_DIR; Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

from tests.support.fixtures import ROOT, free_port

OO = str(Path(sys.executable).parent / "oo")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


class Output:
    """Collects a pipe's lines in a thread so reading never blocks the test."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(
        self, pattern: str, process: subprocess.Popen[str], timeout: float
    ) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text)
            if match:
                return match
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in output of `oo up`:\n{self.text}")

    def join(self) -> None:
        self._thread.join(timeout=30)


def redis_servers_of(var_dir: Path) -> list[psutil.Process]:
    """redis-server processes whose command line mentions this var dir (inspect only)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "redis-server" in cmdline and str(var_dir) in cmdline:
            found.append(proc)
    return found


def workers_of(up_pid: int) -> list[psutil.Process]:
    """`oo up`'s worker children (inspect only)."""
    found = []
    for child in psutil.Process(up_pid).children():
        try:
            cmdline = " ".join(child.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "backend.cli import main" in cmdline and cmdline.endswith(" worker"):
            found.append(child)
    return found


def wait_for_worker_beat(var_dir: Path, worker_pid: int) -> None:
    """Until the worker process beats into the embedded Redis (it polls and runs jobs there)."""
    import redis

    client = redis.Redis(unix_socket_path=str(var_dir / "redis.sock"), decode_responses=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            for name in client.scan_iter(match="*heartbeats:worker"):
                if any(f.endswith(f":{worker_pid}") for f in client.hkeys(name)):
                    return
            time.sleep(0.1)
    finally:
        client.close()
    raise AssertionError(f"worker {worker_pid} never beat")


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop_on_failure(process: subprocess.Popen[str], var_dir: Path) -> None:
    """After a failed assertion: stop what this test started (by pid), never anything else."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for leftover in redis_servers_of(var_dir):  # started by this test's `oo up` only
        leftover.terminate()
        leftover.wait(timeout=30)


def test_up_serves_and_stops_cleanly(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "OO_BASE_URL", "OO_VAR_DIR", "OO_PORT"}
    }
    env.update({"OO_VAR_DIR": str(var_dir), "OO_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        [OO, "up"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = Output(process.stdout), Output(process.stderr)
    try:
        url = f"http://127.0.0.1:{port}"
        out.wait_for(re.escape(f"oO is running at {url}"), process, START_TIMEOUT_S)
        link = out.wait_for(r"Sign in as the demo user: (\S+)", process, 30).group(1)
        assert link.startswith(f"{url}/auth/link/"), "the link points at this server"

        assert httpx.get(f"{url}/healthz", timeout=30).json() == {"ok": True}
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            signed_in = client.get(link)
            assert signed_in.status_code == 303
            assert "sid" in signed_in.cookies
            assert client.get(f"{url}/tip").status_code == 200

        assert (var_dir / "oo.sqlite3").exists(), "SQLite lives under OO_VAR_DIR"
        assert (var_dir / "redis.sock").exists()
        servers = redis_servers_of(var_dir)
        assert len(servers) == 1, "exactly one embedded redis-server for this var dir"
        redis_pid = servers[0].pid
        # The worker is a process of its own (the web loop serves requests only), on the
        # same Redis.
        (worker,) = workers_of(process.pid)
        wait_for_worker_beat(var_dir, worker.pid)

        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=STOP_TIMEOUT_S)
        out.join()
        err.join()
        assert code == 0, (out.text, err.text)
        assert out.text.rstrip().endswith("oO stopped."), out.text
        assert "Traceback" not in err.text, err.text
        assert redis_servers_of(var_dir) == [], "the embedded redis-server is gone"
        assert not _alive(redis_pid)
        assert not _alive(worker.pid), "the worker stopped with it"
        assert not (var_dir / "redis.sock").exists()
    finally:
        _stop_on_failure(process, var_dir)


def _up(var_dir: Path, port: int) -> tuple[subprocess.Popen[str], Output, Output]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "OO_BASE_URL", "OO_VAR_DIR", "OO_PORT"}
    }
    env.update({"OO_VAR_DIR": str(var_dir), "OO_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        [OO, "up"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return process, Output(process.stdout), Output(process.stderr)


def test_a_hard_kill_leaves_no_redis_behind_and_a_stale_one_is_cleaned(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    port = free_port()
    process, out, _err = _up(var_dir, port)
    try:
        out.wait_for(re.escape("oO is running at"), process, START_TIMEOUT_S)
        (server,) = redis_servers_of(var_dir)
        (worker,) = workers_of(process.pid)
        process.kill()  # SIGKILL: no cleanup of ours runs
        process.wait(timeout=STOP_TIMEOUT_S)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while (_alive(server.pid) or _alive(worker.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(server.pid), "the embedded redis-server died with its parent"
        assert not _alive(worker.pid), "so did the worker"
    finally:
        _stop_on_failure(process, var_dir)

    # An orphan whose owner is gone (as on a system without parent-death signals): the next
    # `oo up` stops it and replaces the stale socket instead of sharing it.
    from backend.redis import EmbeddedRedis

    orphan_owner = subprocess.Popen([sys.executable, "-c", "pass"])
    orphan_owner.wait()
    stale = EmbeddedRedis(var_dir / "redis.sock")
    stale.start()
    assert stale.process is not None
    orphan_pid = stale.process.pid
    (var_dir / "redis.pid").write_text(f"{orphan_pid} {orphan_owner.pid}\n")
    process, out, _err = _up(var_dir, port)
    try:
        out.wait_for(re.escape("oO is running at"), process, START_TIMEOUT_S)
        assert not _alive(orphan_pid), "the orphan was stopped"
        (fresh,) = redis_servers_of(var_dir)
        assert fresh.pid != orphan_pid
        # A second `oo up` on the same folder is refused while the first runs.
        second, _out2, err2 = _up(var_dir, free_port())
        assert second.wait(timeout=START_TIMEOUT_S) != 0
        err2.join()
        assert "already running" in err2.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0
    finally:
        _stop_on_failure(process, var_dir)
        if stale.process is not None and stale.process.poll() is None:
            stale.stop()


def _up_with(var_dir: Path, *args: str) -> tuple[subprocess.Popen[str], Output, Output]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "OO_BASE_URL", "OO_VAR_DIR", "OO_PORT"}
    }
    env.update({"OO_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        [OO, "up", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, Output(process.stdout), Output(process.stderr)


def test_port_option_quiet_console_and_the_link_last(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    port = free_port()
    process, out, err = _up_with(var_dir, "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}"
        out.wait_for(re.escape(f"oO is running at {url}"), process, START_TIMEOUT_S)
        link = out.wait_for(r"Sign in as the demo user: (\S+)\n", process, 30).group(1)
        assert link.startswith(f"{url}/auth/link/"), "--port is honoured, link included"
        assert httpx.get(f"{url}/healthz", timeout=30).json() == {"ok": True}
        assert httpx.get(f"{url}/tip", timeout=5, follow_redirects=False).status_code == 303
        lines = [line for line in out.text.splitlines() if line.strip()]
        assert len(lines) == 2, out.text
        assert lines[-1].strip().startswith("Sign in as the demo user:"), "the link comes last"
        # Quiet: no INFO or request lines on the terminal; they are in var/oo.log.
        log = var_dir / "oo.log"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "/healthz" not in log.read_text():
            time.sleep(0.05)
        assert "Uvicorn running on" in log.read_text()
        assert "/healthz" in log.read_text(), "the request log is in var/oo.log"
        assert "INFO" not in err.text, err.text
        assert "/healthz" not in out.text + err.text

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0
        out.join()
        err.join()
        assert "Traceback" not in err.text, err.text
    finally:
        _stop_on_failure(process, var_dir)


def test_a_taken_port_says_how_to_fix_it(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        process, out, err = _up_with(var_dir, "--port", str(port))
        try:
            code = process.wait(timeout=START_TIMEOUT_S)
            out.join()
            err.join()
            assert code == 1, (out.text, err.text)
            assert f"port {port} is already in use" in err.text
            assert f"oo up --port {port + 1}" in err.text
            assert "Errno" not in err.text
            assert "Traceback" not in err.text
            assert redis_servers_of(var_dir) == [], "nothing was started"
        finally:
            _stop_on_failure(process, var_dir)


def test_enter_prints_a_fresh_link_and_sigterm_leaves_nothing_behind(tmp_path: Path) -> None:
    """The real console on a terminal: Enter mints a new single-use link; SIGTERM stops the
    server, the worker and the embedded Redis, and the process exits without a key press."""
    var_dir = tmp_path / "var"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "OO_BASE_URL", "OO_VAR_DIR", "OO_PORT"}
    }
    env.update({"OO_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"})
    keyboard, terminal = pty.openpty()  # stdin is a terminal: Enter is offered
    process = subprocess.Popen(
        [OO, "up", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(terminal)
    out, err = Output(process.stdout), Output(process.stderr)
    link_line = r"Sign in as the demo user: (\S+)\n"
    try:
        url = f"http://127.0.0.1:{port}"
        out.wait_for(re.escape("Enter prints a new link"), process, START_TIMEOUT_S)
        first = out.wait_for(link_line, process, 30).group(1)
        (worker,) = workers_of(process.pid)
        (redis_server,) = redis_servers_of(var_dir)
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            assert client.get(first).status_code == 303, "the first link signs in (once)"

        os.write(keyboard, b"\n")
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(re.findall(link_line, out.text)) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, out.text + err.text
            time.sleep(0.05)
        links = re.findall(link_line, out.text)
        assert len(links) == 2, out.text
        second = links[1]
        assert second != first, "a new link, not the used one again"
        assert second.startswith(f"{url}/auth/link/")
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            signed_in = client.get(second)
            assert signed_in.status_code == 303
            assert "sid" in signed_in.cookies, "the new link signs in"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0, err.text
        out.join()
        err.join()
        assert "Traceback" not in err.text, err.text
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while (_alive(worker.pid) or _alive(redis_server.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker.pid), "the worker stopped with it"
        assert not _alive(redis_server.pid), "the embedded redis-server stopped with it"
        assert redis_servers_of(var_dir) == []
        assert not (var_dir / "redis.sock").exists()
    finally:
        os.close(keyboard)
        _stop_on_failure(process, var_dir)
