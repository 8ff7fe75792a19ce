"""`runSql`, `savedQueries`, `saveQuery`: the read-only SQL runner for admins and their tools."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.admin import sql_console
from backend.admin.sql_runner import MAX_ROWS, TIMEOUT_MS, SqlRefused
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError


@strawberry.type
class SqlResultSet:
    """Columns and rows (cells as text, null for NULL)."""

    columns: list[str]
    rows: list[list[str | None]]
    truncated: bool = strawberry.field(description=f"More than {MAX_ROWS} rows: cut there.")
    elapsed_ms: float


@strawberry.type
class RunSqlPayload:
    """The result, or why the query was refused or stopped (nothing is ever written)."""

    result: SqlResultSet | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SavedSqlQuery:
    """A query kept under a name."""

    id: strawberry.ID
    name: str
    sql: str
    author_email: str | None
    created_at: datetime

    @classmethod
    def of(cls, q: sql_console.SavedQuery) -> SavedSqlQuery:
        """From the service."""
        return cls(
            id=strawberry.ID(q.id),
            name=q.name,
            sql=q.sql,
            author_email=q.author_email,
            created_at=q.created_at,
        )


@strawberry.type
class SaveQueryPayload:
    """The saved query, or why it was not saved."""

    query: SavedSqlQuery | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _error(err: SqlRefused, field: str = "sql") -> UserError:
    return UserError(code=err.code, message=err.message, field=field)


@strawberry.type
class SqlQuery:
    """Admin: saved SQL queries."""

    @strawberry.field(permission_classes=[IsAdmin], description="Saved SQL queries, by name.")
    async def saved_queries(self, info: Info) -> list[SavedSqlQuery]:
        return [SavedSqlQuery.of(q) for q in await sql_console.saved_queries()]


@strawberry.type
class SqlMutation:
    """Admin: the read-only SQL runner (every run is audit-logged)."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description=f"Run one read-only statement (the database refuses writes; secret tables "
        f"are not readable; {TIMEOUT_MS // 1000} s and {MAX_ROWS} rows at most). Audit-logged.",
    )
    async def run_sql(self, info: Info, sql: str, reason: str | None = None) -> RunSqlPayload:
        admin = await info.context.user()
        try:
            result = await sql_console.run_audited(admin.user_id, sql, reason or "")
        except SqlRefused as err:
            return RunSqlPayload(errors=[_error(err)])
        return RunSqlPayload(
            result=SqlResultSet(
                columns=result.columns,
                rows=result.rows,
                truncated=result.truncated,
                elapsed_ms=result.elapsed_ms,
            )
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Keep a query under a new name (audited)."
    )
    async def save_query(self, info: Info, name: str, sql: str) -> SaveQueryPayload:
        admin = await info.context.user()
        try:
            saved = await sql_console.save_query(admin.user_id, name, sql)
        except SqlRefused as err:
            field = "name" if err.code in ("NAME", "NAME_TAKEN") else "sql"
            return SaveQueryPayload(errors=[_error(err, field)])
        return SaveQueryPayload(query=SavedSqlQuery.of(saved))
