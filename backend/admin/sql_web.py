"""The SQL runner page: a query box, saved queries, results as a table, CSV download."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Response, Template

from backend.admin import sql_console
from backend.admin.guard import admin_or_refusal
from backend.admin.sql_runner import MAX_ROWS, TIMEOUT_MS, SqlRefused, SqlResult
from backend.contracts.principal import Principal
from backend.web import error_page

EXAMPLE = "SELECT day, served, reactions FROM admin_day ORDER BY day DESC LIMIT 14"


async def _page(
    user: Principal,
    sql: str,
    *,
    result: SqlResult | None = None,
    error: SqlRefused | None = None,
    saved_message: str = "",
    status: int = 200,
) -> Template:
    return Template(
        template_name="admin/sql.html",
        context={
            "user": user,
            "sql": sql,
            "result": result,
            "error": error,
            "saved_message": saved_message,
            "saved": await sql_console.saved_queries(),
            "max_rows": MAX_ROWS,
            "timeout_s": TIMEOUT_MS // 1000,
            "section": "sql",
        },
        status_code=status,
    )


@get("/admin/sql", include_in_schema=False)
async def sql_page(request: Request[Any, Any, Any], saved: str = "") -> Response[Any]:
    """The query box (prefilled from a saved query when `saved` names one)."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    sql = EXAMPLE
    if saved:
        query = await sql_console.saved_query(saved)
        if query is None:
            return error_page("No such saved query", "It may have been renamed or removed.", 404)
        sql = query.sql
    return await _page(user, sql)


@post("/admin/sql", include_in_schema=False, status_code=200)
async def sql_run(request: Request[Any, Any, Any]) -> Response[Any]:
    """Run (shown as a table, or as a CSV download) or save the query in the box."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    form = await request.form()
    sql = str(form.get("sql", ""))
    intent = str(form.get("intent", "run"))
    if intent == "save":
        try:
            saved = await sql_console.save_query(user.user_id, str(form.get("name", "")), sql)
        except SqlRefused as err:
            return await _page(user, sql, error=err, status=400)
        return await _page(user, sql, saved_message=f"Saved as “{saved.name}”.")
    try:
        result = await sql_console.run_audited(user.user_id, sql, str(form.get("reason", "")))
    except SqlRefused as err:
        return await _page(user, sql, error=err, status=400)
    if intent == "csv":
        return Response(
            content=sql_console.as_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="query.csv"'},
        )
    return await _page(user, sql, result=result)


ROUTES = [sql_page, sql_run]
