"""The console's read-only SQL runner.

The database enforces every limit; the checks in `refusal` only give a clear message first.
- PostgreSQL: a fresh connection per run (no session state or advisory lock can outlive it), a
  READ ONLY transaction that is always rolled back, `SET LOCAL statement_timeout`, and
  `SET LOCAL ROLE oo_sql_reader` — a role with SELECT on every table but the secret ones, and no
  EXECUTE on `set_config` (which could otherwise set the role back); one statement only (a
  prepared statement cannot hold two).
- SQLite: a separate connection opened `mode=ro` with `PRAGMA query_only=ON`, an authorizer that
  allows reading only (and denies reading the secret tables), a progress handler that stops a
  query past its time, and the driver's one-statement rule.
Both: at most MAX_ROWS rows come back.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from piccolo.engine.sqlite import SQLiteEngine

from backend.admin.sql_reader_role import READER_ROLE, ensure_reader_role, secret_tables
from backend.db import engine
from backend.settings import get_settings

MAX_ROWS = 1000
TIMEOUT_MS = 5000
MAX_SQL_CHARS = 20_000
MAX_CELL_CHARS = 2000

READS = ("select", "with", "values", "table", "explain")
SIDE_EFFECTS = re.compile(
    r"\b(pg_terminate_backend|pg_cancel_backend|set_config|pg_advisory\w*|pg_try_advisory\w*"
    r"|lo_\w+|dblink\w*|pg_reload_conf|pg_rotate_logfile|pg_read_\w*file|pg_ls_\w+|pg_stat_file"
    r"|pg_notify|nextval|setval|load_extension|pg_switch_wal|pg_create_\w+|pg_drop_\w+)\s*\(",
    re.IGNORECASE,
)
COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


class SqlRefused(Exception):
    """Why a query was not run (or stopped); `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SqlResult:
    """Column names, rows as text (None for NULL), whether rows were cut at the cap."""

    columns: list[str]
    rows: list[list[str | None]]
    truncated: bool
    elapsed_ms: float


def _bare(sql: str) -> str:
    """The query without comments and quoted text (for the friendly pre-checks only)."""
    return QUOTED.sub("''", COMMENTS.sub(" ", sql)).strip().rstrip(";").strip()


def refusal(sql: str) -> SqlRefused | None:
    """A clear message for a query the database would refuse anyway (None: send it)."""
    if not sql.strip():
        return SqlRefused("EMPTY", "Write a query first.")
    if len(sql) > MAX_SQL_CHARS:
        return SqlRefused("TOO_LONG", f"Queries are limited to {MAX_SQL_CHARS:,} characters.")
    bare = _bare(sql)
    if ";" in bare:
        return SqlRefused("MULTIPLE_STATEMENTS", "One statement at a time, please.")
    first = (bare.split(None, 1) or [""])[0].lower()
    if first == "copy":
        return SqlRefused("COPY", "COPY is not allowed: download results as CSV instead.")
    if first not in READS:
        return SqlRefused(
            "READ_ONLY",
            f"The SQL runner only reads (SELECT, WITH, VALUES, TABLE, EXPLAIN); "
            f"{first.upper() or 'that'} is not allowed.",
        )
    found = SIDE_EFFECTS.search(bare)
    if found:
        return SqlRefused(
            "SIDE_EFFECT", f"{found.group(1)}() has side effects and is not allowed here."
        )
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return f"<{len(bytes(value))} bytes>"
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"


async def execute_read_only(
    sql: str, timeout_ms: int = TIMEOUT_MS, max_rows: int = MAX_ROWS
) -> SqlResult:
    """Run one query with the database enforcing read-only, the hidden tables, the timeout
    and the row cap (no pre-checks here: tests call this directly to prove it)."""
    started = time.perf_counter()
    db = engine()
    if isinstance(db, SQLiteEngine):
        columns, rows = await asyncio.to_thread(_sqlite, str(db.path), sql, timeout_ms, max_rows)
    else:
        columns, rows = await _postgres(sql, timeout_ms, max_rows)
    return SqlResult(
        columns=columns,
        rows=[[_text(v) for v in r] for r in rows[:max_rows]],
        truncated=len(rows) > max_rows,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


async def run(sql: str, timeout_ms: int = TIMEOUT_MS, max_rows: int = MAX_ROWS) -> SqlResult:
    """Pre-check (clear messages), then run read-only; raises SqlRefused."""
    refused = refusal(sql)
    if refused is not None:
        raise refused
    return await execute_read_only(sql.strip().rstrip(";"), timeout_ms, max_rows)


# PostgreSQL ------------------------------------------------------------------------------


def _pg_refusal(err: asyncpg.PostgresError) -> SqlRefused:
    message = str(err)
    if isinstance(err, asyncpg.exceptions.QueryCanceledError):
        return SqlRefused("TIMEOUT", "The query ran past its time limit and was stopped.")
    if isinstance(err, asyncpg.exceptions.ReadOnlySQLTransactionError):
        return SqlRefused("READ_ONLY", f"The SQL runner only reads: {message}")
    if isinstance(err, asyncpg.exceptions.InsufficientPrivilegeError):
        return SqlRefused("FORBIDDEN", f"Not readable through the SQL runner: {message}")
    if "multiple commands" in message:
        return SqlRefused("MULTIPLE_STATEMENTS", "One statement at a time, please.")
    return SqlRefused("SQL_ERROR", message)


async def _postgres(sql: str, timeout_ms: int, max_rows: int) -> tuple[list[str], list[Any]]:
    dsn = get_settings().database_url
    try:
        await ensure_reader_role(dsn)
    except (asyncpg.PostgresError, OSError) as err:  # fail closed: no role, no runner
        raise SqlRefused(
            "UNAVAILABLE", f"The SQL runner's read-only role could not be set up: {err}"
        ) from err
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        transaction = conn.transaction(readonly=True)
        await transaction.start()
        try:
            await conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            await conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
            statement = await conn.prepare(sql)
            columns = [a.name for a in statement.get_attributes()]
            cursor = await statement.cursor()
            rows = await asyncio.wait_for(cursor.fetch(max_rows + 1), timeout=timeout_ms / 1000 + 5)
        except asyncpg.PostgresError as err:
            raise _pg_refusal(err) from err
        finally:
            await transaction.rollback()  # nothing a query did (SET ROLE…) outlives it
        return columns, [tuple(r) for r in rows]
    finally:
        await conn.close()


# SQLite ----------------------------------------------------------------------------------

_ALLOWED_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    getattr(sqlite3, "SQLITE_RECURSIVE", 33),
}
_DENIED_FUNCTIONS = {"load_extension", "writefile", "readfile", "edit", "fts3_tokenizer"}


def _sqlite(path: str, sql: str, timeout_ms: int, max_rows: int) -> tuple[list[str], list[Any]]:
    hidden = {t.lower() for t in secret_tables()}
    denied: list[str] = []

    def authorizer(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in hidden:
            denied.append(f"FORBIDDEN:{arg1}")
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
            denied.append(f"SIDE_EFFECT:{arg2}")
            return sqlite3.SQLITE_DENY
        if action not in _ALLOWED_ACTIONS:
            denied.append("READ_ONLY:")
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    deadline = time.monotonic() + timeout_ms / 1000
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(authorizer)
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            cursor = conn.execute(sql)
            rows = cursor.fetchmany(max_rows + 1)
        except (sqlite3.Error, sqlite3.Warning) as err:
            raise _sqlite_refusal(err, denied, deadline) from err
        columns = [d[0] for d in cursor.description or ()]
        return columns, rows
    finally:
        conn.close()


def _sqlite_refusal(err: Exception, denied: list[str], deadline: float) -> SqlRefused:
    message = str(err)
    if "interrupted" in message and time.monotonic() > deadline:
        return SqlRefused("TIMEOUT", "The query ran past its time limit and was stopped.")
    if "one statement at a time" in message:
        return SqlRefused("MULTIPLE_STATEMENTS", "One statement at a time, please.")
    if denied:
        code, _, what = denied[0].partition(":")
        if code == "FORBIDDEN":
            return SqlRefused("FORBIDDEN", f"Not readable through the SQL runner: {what}.")
        if code == "SIDE_EFFECT":
            return SqlRefused("SIDE_EFFECT", f"{what}() is not allowed here.")
        return SqlRefused("READ_ONLY", f"The SQL runner only reads: {message}")
    if "readonly" in message or "read-only" in message:
        return SqlRefused("READ_ONLY", f"The SQL runner only reads: {message}")
    return SqlRefused("SQL_ERROR", message)
