"""Test harness: one suite, run once per database (OO_TEST_DB=sqlite|postgres).

Each run gets its own database (a fresh PostgreSQL database or a temporary SQLite file), its own
Redis key prefix on the real Redis server, and a var/ directory of its own. The environment is set
here, before any backend module is imported, because settings and the Piccolo engine are read
once per process.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

RUN_ID = secrets.token_hex(4)
TEST_DB = os.environ.get("OO_TEST_DB", "sqlite")
PG_ADMIN_DSN = os.environ.get("OO_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER = os.environ.get("OO_TEST_REDIS", "redis://127.0.0.1:6379/0")
VAR_DIR = Path(tempfile.mkdtemp(prefix=f"oo-test-{RUN_ID}-"))

if TEST_DB == "postgres":
    PG_DB_NAME = f"oo_test_{RUN_ID}"
    os.environ["DATABASE_URL"] = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{PG_DB_NAME}"
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{VAR_DIR / 'test.sqlite3'}"
os.environ["REDIS_URL"] = REDIS_SERVER
# Every process of a run (this one, each `oo serve` and `oo worker` it starts) holds its own
# pool on the machine's PostgreSQL, whose max_connections (100) other work shares: a run keeps
# to small pools so it never starves, nor is starved by, whatever else runs beside it.
os.environ.setdefault("OO_DB_POOL_MAX", "6")
os.environ["OO_REDIS_PREFIX"] = f"oo-test-{RUN_ID}:"
os.environ["OO_VAR_DIR"] = str(VAR_DIR)
os.environ.setdefault("OO_ENV", "development")
os.environ["PICCOLO_CONF"] = "backend.piccolo_conf"
# Tip candidates are written only when a test asks: a worker's cron tick must not change which
# tip another test is served (tests/integration/llm turns it on where it tests it).
os.environ.setdefault("OO_LLM_BACKGROUND", "false")
# Likewise the console's rollups: tests refresh them by hand (tests/integration/admin).
os.environ.setdefault("OO_ADMIN_ROLLUPS", "false")
# And the shadows' replay (ADR 0046): tests replay by hand, for their own people.
os.environ.setdefault("OO_SHADOW_REPLAY", "false")
# Every test speaks from 127.0.0.1 to the session's servers: one caller, as far as the GraphQL
# cost budget can tell, and the fuzzer alone spends a real caller's minute. The budget itself is
# tested on servers of its own (tests/integration/security/test_graphql_cost.py).
os.environ.setdefault("OO_RATE_GRAPHQL_COST", "100000000/minute")

import asyncio  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402

import asyncpg  # noqa: E402
import pytest  # noqa: E402

from backend.domains import install  # noqa: E402

install()  # the composer wires every domain into the contracts, as the app and worker do

pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.idp_fixtures",
    "tests.support.standin_fixtures",
    "tests.support.counting",
]


def _create_pg_database() -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{PG_DB_NAME}"')
        finally:
            await conn.close()

    asyncio.run(run())


def _drop_pg_database() -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(run())


def pytest_configure(config: pytest.Config) -> None:
    """Create the run's database and apply migrations before any test."""
    if TEST_DB == "postgres":
        _create_pg_database()
    from backend.migrate import migrate

    asyncio.run(migrate())


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the run's database and Redis keys."""
    import redis

    client = redis.Redis.from_url(REDIS_SERVER)
    for k in client.scan_iter(match=f"oo-test-{RUN_ID}:*", count=1000):
        client.delete(k)
    client.close()
    if TEST_DB == "postgres":
        _drop_pg_database()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database this run uses."""
    return f"oO test database: {TEST_DB} ({os.environ['DATABASE_URL']})"


@pytest.fixture(scope="session")
def var_dir() -> Path:
    """This run's var/ directory."""
    return VAR_DIR


@pytest.fixture(autouse=True, scope="session")
async def _close_clients() -> AsyncIterator[None]:
    yield
    from backend.queue import close_queue
    from backend.redis import close_redis

    await close_queue()
    await close_redis()
