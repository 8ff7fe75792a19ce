"""Which tables the SQL runner may not read, and the PostgreSQL role that cannot read them.

The role is set up by the first run in each process (idempotent; new tables since the last
start are granted too): SELECT on every table of the public schema except the secret ones, and
no EXECUTE on `set_config`, which would let a query set its role back to the login role.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from backend.identity.vault import encrypted_columns

log = logging.getLogger("oo.admin.sql")

READER_ROLE = "oo_sql_reader"

SECRET_TABLES = frozenset(
    {
        "provider_credential",  # the token vault (sealed OAuth tokens)
        "api_token",  # personal token hashes
        "sign_in_link",  # one-time sign-in link hashes
        "user_identity",  # provider subjects: what signs a person in
        "webhook_endpoint",  # sealed webhook secrets
        "push_subscription",  # Web Push endpoints and keys (when the notifier adds them)
        "vapid_key",
        "session",
    }
)
"""Sessions live in Redis, out of the runner's reach; the names are listed in case a table
with that role appears."""


def secret_tables() -> frozenset[str]:
    """Every table holding a secret: the list above and every table with vault-sealed columns."""
    sealed = {t._meta.tablename for t in encrypted_columns()}
    return SECRET_TABLES | sealed


_ready: set[str] = set()
_lock = asyncio.Lock()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _set_up(conn: asyncpg.Connection) -> None:
    await conn.execute(
        f"""DO $$ BEGIN CREATE ROLE {READER_ROLE} NOLOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"""
    )
    tables = {
        r["tablename"]
        for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    hidden = sorted(tables & secret_tables())
    async with conn.transaction():
        await conn.execute(f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}")
        await conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {READER_ROLE}")
        await conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE}")
        if hidden:
            names = ", ".join(_quoted(t) for t in hidden)
            await conn.execute(f"REVOKE ALL ON {names} FROM {READER_ROLE}")
        await conn.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {READER_ROLE}")
        # set_config('role', …) would undo SET ROLE: only the login role keeps it.
        await conn.execute(
            "REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC"
        )
        await conn.execute(
            "GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO CURRENT_USER"
        )
        superuser = await conn.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        if not superuser:
            await conn.execute(f"GRANT {READER_ROLE} TO CURRENT_USER")


async def ensure_reader_role(dsn: str) -> None:
    """Set the reader role up once per process and database (retried once: two processes
    granting at the same moment can collide)."""
    if dsn in _ready:
        return
    async with _lock:
        if dsn in _ready:
            return
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            try:
                await _set_up(conn)
            except asyncpg.exceptions.InternalServerError:  # "tuple concurrently updated"
                await asyncio.sleep(0.2)
                await _set_up(conn)
        finally:
            await conn.close()
        _ready.add(dsn)
        log.info("SQL runner role %s ready", READER_ROLE)
