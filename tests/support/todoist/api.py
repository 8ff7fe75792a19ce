"""The Todoist stand-in's data endpoints (``/api/v1/...``) and their plumbing: bearer auth and
scopes, injected failures, paging."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tests.support.idp_common import Request, Response
from tests.support.todoist.api_base import ApiError
from tests.support.todoist.model import (
    TodoistAccount,
    _add_months,
    _api_error,
    _due_moment,
    todoist_time,
)
from tests.support.todoist.state import TodoistState


class TodoistApi(TodoistState):
    """``/api/v1`` users, tasks (list, filter, get, close, reopen, completed) and projects."""

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        if status == 429:
            wait = 1 if retry_after is None else retry_after
            err = _api_error(429, "Too Many Requests", "TOO_MANY_REQUESTS", retry_after=wait)
            err.headers.append(("Retry-After", str(wait)))
        elif status == 401:
            err = _api_error(401, "Invalid token", "AUTH_INVALID_TOKEN")
        elif status >= 500:
            err = _api_error(status, "Internal Server Error", "INTERNAL_SERVER_ERROR")
        else:
            err = _api_error(status, "Injected failure", "INJECTED_FAILURE")
        if retry_after is not None and status != 429:
            err.headers.append(("Retry-After", str(retry_after)))
        return err.response()

    def not_found(self, status: int) -> Response:
        if status == 405:
            return _api_error(405, "Method Not Allowed", "METHOD_NOT_ALLOWED").response()
        return _api_error(404, "Not Found", "NOT_FOUND").response()

    def bad_cursor(self) -> ApiError:
        return _api_error(
            400, "Invalid argument value", "INVALID_ARGUMENT_VALUE", 20, argument="cursor"
        )

    def _bearer(self, req: Request) -> str:
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    def log_user(self, req: Request) -> str | None:
        value = self._bearer(req)
        tok = self.token(value) if value else None
        return tok.account.email if tok is not None else None

    def _authed(
        self, handler: Callable[..., Response], scopes: frozenset[str]
    ) -> Callable[..., Response]:
        def run(req: Request, **path: str) -> Response:
            value = self._bearer(req)
            tok = self.token(value) if value else None
            if tok is None or tok.access_token != value or not tok.live:
                raise _api_error(401, "Invalid token", "AUTH_INVALID_TOKEN")
            if not scopes & set(tok.scope.split(",")):
                raise _api_error(403, "Insufficient token scope", "AUTH_INSUFFICIENT_TOKEN_SCOPE")
            return handler(req, tok.account, **path)

        return run

    def _limit(self, req: Request) -> int:
        raw = req.params.get("limit", "50")
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= 200:
            raise _api_error(
                400, "Invalid argument value", "INVALID_ARGUMENT_VALUE", 20, argument="limit"
            )
        return limit

    def _paged(
        self, req: Request, items: list[dict[str, Any]], key: tuple[Any, ...], field: str
    ) -> Response:
        chunk, nxt = self.page(items, self._limit(req), req.params.get("cursor"), key)
        return Response.json({field: copy.deepcopy(chunk), "next_cursor": nxt})

    # ----------------------------------------------------------------- API endpoints

    def _user(self, req: Request, acct: TodoistAccount) -> Response:
        return Response.json(
            {
                "id": acct.id,
                "email": acct.email,
                "full_name": acct.full_name,
                "inbox_project_id": acct.inbox_project_id,
                "lang": "en",
                "premium_status": "not_premium",
                "start_day": 1,
                "tz_info": {
                    "timezone": acct.timezone,
                    "gmt_string": "+00:00",
                    "hours": 0,
                    "minutes": 0,
                    "is_dst": 0,
                },
            }
        )

    def _list_tasks(self, req: Request, acct: TodoistAccount) -> Response:
        p = req.params
        tasks = acct.active_tasks()
        if p.get("project_id"):
            tasks = [t for t in tasks if t["project_id"] == p["project_id"]]
        if p.get("section_id"):
            tasks = [t for t in tasks if t["section_id"] == p["section_id"]]
        if p.get("parent_id"):
            tasks = [t for t in tasks if t["parent_id"] == p["parent_id"]]
        if p.get("label"):
            tasks = [t for t in tasks if p["label"] in t["labels"]]
        if p.get("ids"):
            wanted = set(p["ids"].split(","))
            tasks = [t for t in tasks if t["id"] in wanted]
        filters = tuple(p.get(k) for k in ("project_id", "section_id", "parent_id", "label", "ids"))
        return self._paged(req, tasks, ("tasks", acct.id, *filters), "results")

    def _filter_tasks(self, req: Request, acct: TodoistAccount) -> Response:
        query = req.params.get("query", "").strip()
        if not query:
            raise _api_error(
                400, "Required argument is missing", "ARGUMENT_MISSING", 19, argument="query"
            )
        keep = self._compile_filter(acct, query)
        tasks = [t for t in acct.active_tasks() if keep(t)]
        return self._paged(req, tasks, ("filter", acct.id, query), "results")

    def _compile_filter(self, acct: TodoistAccount, query: str) -> Callable[[dict[str, Any]], bool]:
        now = self.clock()
        today = now.date()

        def due_day(task: dict[str, Any]) -> date | None:
            if not task["due"]:
                return None
            moment = _due_moment(task["due"])
            if isinstance(moment, datetime):
                return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
            return moment

        def overdue(task: dict[str, Any]) -> bool:
            if not task["due"]:
                return False
            moment = _due_moment(task["due"])
            if isinstance(moment, datetime):
                aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                return aware < now
            return moment < today

        def atom(text: str) -> Callable[[dict[str, Any]], bool]:
            word = text.strip()
            low = word.lower()
            if low == "today":
                return lambda t: due_day(t) == today
            if low == "overdue":
                return overdue
            if low == "no date":
                return lambda t: t["due"] is None
            if low == "recurring":
                return lambda t: bool(t["due"] and t["due"]["is_recurring"])
            if re.fullmatch(r"p[1-4]", low):
                level = 5 - int(low[1])
                return lambda t: t["priority"] == level
            if word.startswith("#") and len(word) > 1:
                project = acct.project(word[1:].strip())
                pid = project["id"] if project else None
                return lambda t: t["project_id"] == pid
            if word.startswith("@") and len(word) > 1:
                label = word[1:].strip().lower()
                return lambda t: label in (x.lower() for x in t["labels"])
            raise _api_error(
                400, f"Invalid filter query: {text!r}", "INVALID_SEARCH_QUERY", 482, query=query
            )

        any_of = [[atom(a) for a in part.split("&")] for part in query.split("|")]
        return lambda t: any(all(f(t) for f in all_of) for all_of in any_of)

    def _get_task(self, req: Request, acct: TodoistAccount, task_id: str) -> Response:
        task = acct.tasks.get(task_id)
        if task is None or task["is_deleted"]:
            raise _api_error(404, "Task not found", "NOT_FOUND")
        return Response.json(copy.deepcopy(task))

    def _close(self, req: Request, acct: TodoistAccount, task_id: str) -> Response:
        task = acct.tasks.get(task_id)
        if task is None or task["is_deleted"]:
            raise _api_error(404, "Task not found", "NOT_FOUND")
        self.close_calls.append(task_id)
        self._complete(acct, task)
        return Response(204, b"")

    def _reopen(self, req: Request, acct: TodoistAccount, task_id: str) -> Response:
        task = acct.tasks.get(task_id)
        if task is None or task["is_deleted"]:
            raise _api_error(404, "Task not found", "NOT_FOUND")
        self.reopen_calls.append(task_id)
        if task["checked"]:
            task.update(checked=False, completed_at=None, updated_at=todoist_time(self.clock()))
            for i in range(len(acct.completions) - 1, -1, -1):
                if acct.completions[i]["id"] == task_id:
                    del acct.completions[i]
                    break
        return Response(204, b"")

    def _completed(self, req: Request, acct: TodoistAccount) -> Response:
        p = req.params

        def moment(name: str) -> datetime:
            raw = p.get(name, "")
            if not raw:
                raise _api_error(
                    400, "Required argument is missing", "ARGUMENT_MISSING", 19, argument=name
                )
            try:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise _api_error(
                    400, "Invalid argument value", "INVALID_ARGUMENT_VALUE", 20, argument=name
                ) from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

        since, until = moment("since"), moment("until")
        if until < since or until > _add_months(since, 3):
            raise _api_error(
                400,
                "The time range must be at most 3 months",
                "INVALID_DATE_RANGE",
                20,
                argument="until",
            )
        items = [
            c
            for c in reversed(acct.completions)
            if since <= datetime.fromisoformat(c["completed_at"].replace("Z", "+00:00")) <= until
            and (not p.get("project_id") or c["project_id"] == p["project_id"])
        ]
        key = ("completed", acct.id, p["since"], p["until"], p.get("project_id"))
        return self._paged(req, items, key, "items")

    def _list_projects(self, req: Request, acct: TodoistAccount) -> Response:
        projects = sorted(
            (p for p in acct.projects.values() if not p["is_deleted"]),
            key=lambda p: p["child_order"],
        )
        return self._paged(req, projects, ("projects", acct.id), "results")

    def _get_project(self, req: Request, acct: TodoistAccount, project_id: str) -> Response:
        project = acct.projects.get(project_id)
        if project is None or project["is_deleted"]:
            raise _api_error(404, "Project not found", "NOT_FOUND")
        return Response.json(copy.deepcopy(project))
