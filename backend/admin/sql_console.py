"""The SQL runner as the console uses it: every run audit-logged (refused ones too), saved
queries, CSV of a result."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from backend import audit
from backend.admin.sql_runner import SqlRefused, SqlResult, refusal, run
from backend.admin.sql_tables import AdminSavedQuery

MAX_NAME_CHARS = 120
AUDITED_SQL_CHARS = 4000


@dataclass(frozen=True)
class SavedQuery:
    """A saved query with who saved it (None once they deleted their account)."""

    id: str
    name: str
    sql: str
    author_email: str | None
    created_at: datetime


async def run_audited(admin_id: str, sql: str, reason: str = "") -> SqlResult:
    """Run a query for an admin; the audit log gets the SQL, why, and what came of it."""
    detail: dict[str, object] = {"sql": sql[:AUDITED_SQL_CHARS], "reason": reason.strip()}
    try:
        result = await run(sql)
    except SqlRefused as err:
        await audit.record(admin_id, "sql.run", "sql", {**detail, "refused": err.code})
        raise
    await audit.record(
        admin_id,
        "sql.run",
        "sql",
        {**detail, "rows": len(result.rows), "ms": result.elapsed_ms},
    )
    return result


async def saved_queries() -> list[SavedQuery]:
    """Every saved query, by name."""
    rows = await AdminSavedQuery.select(
        AdminSavedQuery.id,
        AdminSavedQuery.name,
        AdminSavedQuery.sql,
        AdminSavedQuery.author.email.as_alias("author_email"),
        AdminSavedQuery.created_at,
    ).order_by(AdminSavedQuery.name)
    return [
        SavedQuery(
            id=str(r["id"]),
            name=r["name"],
            sql=r["sql"],
            author_email=r["author_email"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def saved_query(query_id: str) -> SavedQuery | None:
    """One saved query (None: unknown id)."""
    return next((q for q in await saved_queries() if q.id == query_id), None)


async def save_query(admin_id: str, name: str, sql: str) -> SavedQuery:
    """Keep a query under a new name (its SQL must pass the runner's checks); audited."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise SqlRefused("NAME", f"Give it a name of 1 to {MAX_NAME_CHARS} characters.")
    refused = refusal(sql)
    if refused is not None:
        raise refused
    taken = await AdminSavedQuery.exists().where(AdminSavedQuery.name == name)
    if taken:
        raise SqlRefused("NAME_TAKEN", f"A query named “{name}” exists already.")
    row = AdminSavedQuery(name=name, sql=sql.strip(), author=admin_id)
    await row.save()
    await audit.record(admin_id, "sql.save", name, {"sql": sql[:AUDITED_SQL_CHARS]})
    saved = await saved_query(str(row.id))
    assert saved is not None
    return saved


def as_csv(result: SqlResult) -> str:
    """The result as CSV (header row first; NULL as an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(result.columns)
    writer.writerows([[_cell(v) for v in row] for row in result.rows])
    return out.getvalue()


def _cell(value: str | None) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it (numbers stay).
    if value is None:
        return ""
    if value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
