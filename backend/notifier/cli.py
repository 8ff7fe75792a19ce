"""`oo push …`: the deployment's VAPID keys."""

from __future__ import annotations

import asyncio

import click


@click.group()
def push() -> None:
    """Web Push."""


@push.command("rotate-vapid")
def rotate_vapid() -> None:
    """Make a new VAPID key pair; browsers re-subscribe with it on their next visit."""
    from backend.db import close_pool, open_pool
    from backend.notifier.vapid import rotate_vapid as run
    from backend.redis import close_redis

    async def rotate() -> str:
        await open_pool()
        try:
            done = await run()
        finally:
            await close_redis()
            await close_pool()
        return (
            f"new VAPID public key {done.public_key}; {done.retired} retired "
            f"(kept while subscriptions use them), {done.dropped} unused dropped"
        )

    click.echo(asyncio.run(rotate()))
