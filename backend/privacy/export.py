"""The export: one JSON document with every row about a person (format: docs/export-format.md).

Rows come from the same ownership map account deletion uses, so the two never disagree about
what "data about a person" is. Secrets are left out by column: vault-sealed columns, Piccolo
`secret=True` columns, hashes of tokens and links, anything named like a token or password.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from piccolo.columns import JSON, Column, Timestamp, Timestamptz
from piccolo.table import Table

from backend.events.bus import stream_key
from backend.events.contracts import decode_payload
from backend.identity.service import list_sessions
from backend.identity.tables import User
from backend.identity.vault import encrypted_columns
from backend.privacy.registry import owner_clause, ownership_map, table_name
from backend.redis import get_redis

EXPORT_FORMAT = "oo-export"
EXPORT_VERSION = 1
_SECRET_NAME = re.compile(
    r"(_enc$|^hash$|(token|secret|password|key)s?_hash$|secret|password|private_key"
    r"|(^|_)token$|(^|_)(access|refresh|id)_token)"
)
EXCLUDED_NOTE = (
    "Left out on purpose: provider tokens (sealed in our vault), hashes of API tokens and "
    "sign-in links, and any other secret column. Everything else about you is here."
)


def is_secret_column(table: type[Table], column: Column) -> bool:
    """True for columns an export (or any other read-out) must never include."""
    name = column._meta.name
    return bool(
        column._meta.secret
        or name in encrypted_columns().get(table, ())
        or _SECRET_NAME.search(name)
    )


def jsonable(value: Any) -> Any:
    """A value as plain JSON (datetimes as ISO 8601 with zone, UUIDs as strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _loaded(value: Any) -> Any:
    # Tolerant, unlike Piccolo's load_json: SQLite hands a bare JSON scalar back as a number,
    # and one odd cell must not cost a person their export.
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def select_rows(table: type[Table], clause: Any, limit: int | None = None) -> list[Any]:
    """The table's rows matching `clause`, secrets left out, JSON columns parsed, newest first
    when the table has a timestamp."""
    columns = [c for c in table._meta.columns if not is_secret_column(table, c)]
    json_names = {c._meta.name for c in columns if isinstance(c, JSON)}
    stamps = [c for c in columns if isinstance(c, Timestamptz | Timestamp)]
    query = table.select(*columns).where(clause)
    if stamps:
        query = query.order_by(stamps[0], ascending=False)
    if limit is not None:
        query = query.limit(limit)
    rows = await query
    return [{k: _loaded(v) if k in json_names else v for k, v in r.items()} for r in rows]


async def _rows(table: type[Table], clause: Any) -> list[dict[str, Any]]:
    return [jsonable(r) for r in await select_rows(table, clause)]


async def _events(user_id: str) -> list[dict[str, Any]]:
    redis = get_redis()
    found: list[dict[str, Any]] = []
    start = "-"
    while True:
        rows = await redis.xrange(stream_key(), min=start, count=500)
        for event_id, fields in rows:
            if fields.get("user_id") != user_id:
                continue
            subject = fields.get("subject", "")
            found.append(
                {
                    "id": event_id,
                    "subject": subject,
                    "at": fields.get("at"),
                    "payload": jsonable(decode_payload(subject, fields.get("payload", "{}"))),
                }
            )
        if len(rows) < 500:
            return found
        start = "(" + rows[-1][0]


async def export_user_data(user_id: str) -> dict[str, Any]:
    """Everything stored about the person, tokens excluded, as one JSON-ready document."""
    plan = ownership_map()
    tables: dict[str, list[dict[str, Any]]] = {
        table_name("identity", User): await _rows(User, User.id == user_id)
    }
    for owned in sorted(plan, key=lambda o: o.name):
        tables[owned.name] = await _rows(owned.table, owner_clause(owned, plan, user_id))
    sessions = [
        {"created_at": jsonable(s.created_at), "user_agent": s.user_agent}
        for s in await list_sessions(user_id)
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": jsonable(datetime.now(UTC)),
        "user_id": user_id,
        "excluded": EXCLUDED_NOTE,
        "tables": tables,
        "sessions": sessions,
        "events": await _events(user_id),
    }
