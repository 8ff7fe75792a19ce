"""A deployment of the fault tests' own: its own database (so no other test's worker drains
its outbox or runs its jobs), migrated, with the demo person and a personal token."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from tests.support.fixtures import ROOT

OO = str(Path(sys.executable).parent / "oo")


def _admin(dsn: str, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def own_database(admin_dsn: str) -> Iterator[str]:
    """A fresh, migrated database on the server of `admin_dsn`; dropped afterwards."""
    name = f"oo_fault_{secrets.token_hex(4)}"
    _admin(admin_dsn, f'CREATE DATABASE "{name}"')
    url = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    try:
        oo(url, "migrate")
        yield url
    finally:
        _admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def oo(database_url: str, *args: str) -> str:
    """Run an `oo` command against that database; its output."""
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [OO, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout


def demo_token_and_link(database_url: str) -> tuple[str, str]:
    """The demo person of that database (with demo tasks): a personal token and the path of a
    one-time sign-in link."""
    from backend.identity.service import DEMO_EMAIL

    link = next(w for w in oo(database_url, "demo").split() if "/auth/link/" in w)
    token = oo(database_url, "token", "create", "--email", DEMO_EMAIL, "--name", "fault")
    return token.strip().split()[-1], urlsplit(link).path
