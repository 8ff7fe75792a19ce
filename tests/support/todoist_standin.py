"""A Todoist-shaped server on 127.0.0.1: OAuth + unified API v1 + signed webhooks.

One server plays both hosts (``todoist.com/oauth/*`` and ``api.todoist.com/api/v1/*``), so the
app's real connector talks HTTP to it. The server, thread and ASGI plumbing are ``StandInBase``'s
(``idp_common``); ``ApiStandIn`` below adds what a data API needs on top: path parameters
(``/tasks/{id}/close``), a request log with headers (secrets redacted) and the status answered,
``fail_next`` (429 / 401 / 500 on demand) and opaque paging cursors. ``calendar_standin`` reuses it.

Wire format: ``../shared/SEED_NOTES.md`` ("External API facts"). Choices where Todoist's docs are
silent, made to mirror Todoist's observable behaviour or to be strict where it helps tests:

* OAuth: ``GET /oauth/authorize?client_id&scope&state[&redirect_uri]`` (scopes comma-separated,
  ``state`` required). The redirect target is ``redirect_uri`` when sent (it must be registered
  with ``allow_redirect``), else the most recently registered one (Todoist has one per app). A
  consent page (``#approve`` / ``#deny``) unless ``auto_approve``. Codes live 10 minutes and are
  single-use. ``POST /oauth/access_token`` takes client credentials in the form only (as Todoist
  documents); ``redirect_uri``, when sent, must match the authorize request.
* Refresh tokens rotate: a refresh answers a new access *and* refresh token; the used refresh
  token is dead (``invalid_grant``). Earlier access tokens keep working until they expire.
* ``POST /api/v1/revoke`` (RFC 7009, HTTP Basic client auth) ends the whole grant: the access
  token, its refresh token and every token rotated from the same authorization. Unknown tokens
  answer 200 (RFC 7009).
* Scopes: reads need ``data:read`` or ``data:read_write``; close / reopen need
  ``data:read_write`` (403 otherwise).
* ``POST /tasks/{id}/close`` is idempotent: closing a closed task answers 204 and changes nothing,
  but *every* 204 close is appended to ``close_calls`` (so "exactly one close" is checkable).
  Recurring tasks stay open and move to the next occurrence (see ``_advance``). Closing a
  non-recurring parent also completes its open sub-tasks.
* ``GET /tasks/filter?query`` supports a tiny grammar: atoms ``today``, ``overdue``,
  ``no date``, ``recurring``, ``p1``..``p4`` (``p1`` = API priority 4, as in Todoist),
  ``#Project`` and ``@label`` (names case-insensitive), joined with ``&`` (and) and ``|`` (or,
  lower precedence). Anything else (parentheses, ``!``, dates) → 400. "Today" is in UTC by the
  ``clock`` knob.
* Completed tasks (``/tasks/completed/by_completion_date``): one item per completion, newest
  first; a recurring task's completion is a snapshot (``checked: true``) while the live task
  stays open. ``since``/``until`` are required; a range longer than 3 calendar months → 400.
* Task and project objects carry a few more fields than SEED_NOTES lists (``user_id``,
  ``added_by_uid``, ``responsible_uid``, ``is_collapsed`` …) because the real API sends them: a
  client that rejects unknown fields fails here, not in production.
* Errors of the API have Todoist's v1 shape ``{"error", "error_code", "error_extra",
  "error_tag", "http_code"}``; OAuth errors are ``{"error": "invalid_grant"}`` style.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri

from tests.support.idp_common import Request, Response, StandInBase, consent_page

# --------------------------------------------------------------------------- shared API layer

SECRET_PARAMS = frozenset(
    {"client_secret", "code", "code_verifier", "refresh_token", "token", "access_token"}
)


def _redact_params(params: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}


def _redact_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name == "authorization":
            out[name] = value.split(" ", 1)[0] + " ***"
        elif name in ("cookie", "x-todoist-hmac-sha256"):
            out[name] = "***"
        else:
            out[name] = value
    return out


@dataclass
class SeenRequest:
    """One request the stand-in received (secrets redacted)."""

    method: str
    path: str
    params: dict[str, str]  # query + form, first value each; secret fields → "***"
    headers: dict[str, str]  # lower-case names; Authorization → "Bearer ***"
    status: int | None = None  # what the stand-in answered
    user: str | None = None  # e-mail of the account the bearer token belongs to


class ApiError(Exception):
    """Raised by a handler: answered as JSON with ``status``."""

    def __init__(
        self, status: int, body: Any, headers: Iterable[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = list(headers or [])

    def response(self) -> Response:
        return Response(
            self.status, self.body, [("Content-Type", "application/json"), *self.headers]
        )


class _AllToDispatcher(dict[Any, Any]):
    """StandInBase looks handlers up by exact (method, path); send every request to one."""

    def __init__(self, dispatch: Callable[[Request], Response]) -> None:
        super().__init__()
        self._dispatch = dispatch

    def get(self, key: Any, default: Any = None) -> Callable[[Request], Response]:
        return self._dispatch


class ApiStandIn(StandInBase):
    """``StandInBase`` (server, thread, ASGI) plus what a data API stand-in needs.

    Subclasses register ``add_route(method, regex, handler)``; named groups of the regex are
    passed to the handler as keyword arguments. ``fail_prefix`` selects the paths that
    ``fail_next`` applies to.
    """

    fail_prefix = "/"

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self._api_routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        super().__init__(host_name)
        self._routes = _AllToDispatcher(self._dispatch)

    def reset(self) -> None:
        super().reset()
        self.requests: list[SeenRequest] = []  # type: ignore[assignment]
        self._failures: list[tuple[int, int | None]] = []
        self._cursors: dict[str, tuple[tuple[Any, ...], int]] = {}

    # ----------------------------------------------------------------- knobs

    def fail_next(self, status: int, n: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``n`` API calls with ``status`` (429 carries Retry-After)."""
        self._failures.extend([(status, retry_after)] * n)

    def calls(self, method: str | None = None, path: str | None = None) -> list[SeenRequest]:
        """Logged requests, optionally only those with this method and/or path (exact)."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    # ----------------------------------------------------------------- for subclasses

    def add_route(self, method: str, pattern: str, handler: Callable[..., Response]) -> None:
        self._api_routes.append((method, re.compile(pattern), handler))

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        raise NotImplementedError

    def not_found(self, status: int) -> Response:
        return Response.json(
            {"error": "Not Found" if status == 404 else "Method Not Allowed"}, status
        )

    def bad_cursor(self) -> ApiError:
        raise NotImplementedError

    def log_user(self, req: Request) -> str | None:
        return None

    def page(
        self, items: list[Any], limit: int, cursor: str | None, key: tuple[Any, ...]
    ) -> tuple[list[Any], str | None]:
        """``limit`` items from the position ``cursor`` points at, and the next opaque cursor.

        A cursor is only valid for the same ``key`` (endpoint, account and filters).
        """
        start = 0
        if cursor:
            entry = self._cursors.get(cursor)
            if entry is None or entry[0] != key:
                raise self.bad_cursor()
            start = entry[1]
        chunk = items[start : start + limit]
        if start + limit >= len(items):
            return chunk, None
        nxt = secrets.token_urlsafe(24)
        self._cursors[nxt] = (key, start + limit)
        return chunk, nxt

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, req: Request) -> Response:
        seen = SeenRequest(
            req.method, req.path, _redact_params(req.params), _redact_headers(req.headers)
        )
        # StandInBase logged a (method, path, params) tuple a moment ago (synchronously, on the
        # server's event loop): replace it with the richer record.
        if self.requests and isinstance(self.requests[-1], tuple):
            self.requests[-1] = seen
        else:
            self.requests.append(seen)
        seen.user = self.log_user(req)
        try:
            resp = self._route(req)
        except ApiError as err:
            resp = err.response()
        except Exception:
            seen.status = 500
            raise
        seen.status = resp.status
        return resp

    def _route(self, req: Request) -> Response:
        if self._failures and req.path.startswith(self.fail_prefix):
            status, retry_after = self._failures.pop(0)
            return self.failure_response(status, retry_after)
        known_path = False
        for method, pattern, handler in self._api_routes:
            match = pattern.fullmatch(req.path)
            if match is None:
                continue
            if method == req.method:
                return handler(req, **match.groupdict())
            known_path = True
        return self.not_found(405 if known_path else 404)


# --------------------------------------------------------------------------- Todoist models

SCOPES = frozenset(
    {"task:add", "data:read", "data:read_write", "data:delete", "project:delete", "backups:read"}
)
READ_SCOPES = frozenset({"data:read", "data:read_write"})
WRITE_SCOPES = frozenset({"data:read_write"})
CODE_LIFETIME = 600
ITEM_EVENTS = frozenset(
    {"item:added", "item:updated", "item:completed", "item:uncompleted", "item:deleted"}
)
_ID_ALPHABET = string.ascii_letters + string.digits


def todoist_id() -> str:
    """An opaque id shaped like Todoist v1's (16 letters and digits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def todoist_time(moment: datetime) -> str:
    """Todoist's timestamp format: UTC with microseconds, e.g. 2025-01-02T03:04:05.000000Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _recurring_string(step_days: int) -> str:
    if step_days == 1:
        return "every day"
    if step_days == 7:
        return "every week"
    if step_days % 7 == 0:
        return f"every {step_days // 7} weeks"
    return f"every {step_days} days"


def make_due(
    when: date | datetime | str | dict[str, Any] | None,
    recurring_days: int | None = None,
    today: date | None = None,
) -> dict[str, Any] | None:
    """A Todoist due object.

    ``date`` → ``"YYYY-MM-DD"`` (timezone null); aware ``datetime`` → ``"YYYY-MM-DDTHH:MM:SSZ"``
    in UTC, ``timezone`` its zone name (``"UTC"`` for a fixed offset); naive ``datetime`` →
    floating ``"YYYY-MM-DDTHH:MM:SS"`` (timezone null); a ``dict`` is taken as is; a string is
    parsed as ISO 8601. With ``recurring_days`` and no date, the first occurrence is ``today``.
    """
    if isinstance(when, dict):
        return when
    if when is None:
        if not recurring_days:
            return None
        when = today or _utcnow().date()
    if isinstance(when, str):
        when = (
            date.fromisoformat(when)
            if len(when) == 10
            else datetime.fromisoformat(when.replace("Z", "+00:00"))
        )
    timezone: str | None = None
    if isinstance(when, datetime):
        if when.tzinfo is not None:
            timezone = getattr(when.tzinfo, "key", "UTC")
            value = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            value = when.strftime("%Y-%m-%dT%H:%M:%S")
        text = f"{when:%b} {when.day} {when:%H:%M}"
    else:
        value = when.isoformat()
        text = f"{when:%b} {when.day}"
    if recurring_days:
        text = _recurring_string(recurring_days)
    return {
        "date": value,
        "string": text,
        "lang": "en",
        "is_recurring": bool(recurring_days),
        "timezone": timezone,
    }


def _due_moment(due: dict[str, Any]) -> date | datetime:
    value = str(due["date"])
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class TodoistAccount:
    """A Todoist user with their projects, tasks and completion history."""

    email: str
    id: str
    full_name: str
    timezone: str = "UTC"
    inbox_project_id: str = ""
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    recurrence: dict[str, int] = field(default_factory=dict)  # task id → step in days
    completions: list[dict[str, Any]] = field(default_factory=list)  # snapshots, oldest first

    @property
    def name(self) -> str:  # for consent_page
        return self.full_name

    def project(self, name_or_id: str) -> dict[str, Any] | None:
        """The project with this id, or else this name (case-insensitive)."""
        if name_or_id in self.projects:
            return self.projects[name_or_id]
        for project in self.projects.values():
            if project["name"].lower() == name_or_id.lower():
                return project
        return None

    def active_tasks(self) -> list[dict[str, Any]]:
        """Open, not deleted tasks in Todoist's order (project, then child_order)."""
        order = {pid: p["child_order"] for pid, p in self.projects.items()}
        live = [t for t in self.tasks.values() if not t["checked"] and not t["is_deleted"]]
        return sorted(live, key=lambda t: (order.get(t["project_id"], 0), t["child_order"]))


@dataclass
class TodoistToken:
    """An issued access token (and refresh token when refresh is enabled)."""

    access_token: str
    refresh_token: str | None
    account: TodoistAccount
    scope: str
    grant_id: str  # shared by every token rotated from the same authorization
    expires_at: float | None  # None: never expires (refresh disabled, like legacy tokens)
    revoked: bool = False
    rotated: bool = False  # its refresh token was used (and is dead)

    @property
    def user(self) -> TodoistAccount:
        return self.account

    def is_expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at

    @property
    def live(self) -> bool:
        return not self.revoked and not self.is_expired()


@dataclass
class TodoistCode:
    code: str
    account: TodoistAccount
    scope: str
    redirect_uri: str
    issued_at: float = field(default_factory=time.time)
    used: bool = False


@dataclass
class WebhookDelivery:
    """One webhook sent by ``send_webhook`` (``redeliver`` resends the very same bytes)."""

    delivery_id: str
    event_name: str
    target_url: str
    body: bytes
    headers: dict[str, str]
    statuses: list[int] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


def webhook_signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)), the X-Todoist-Hmac-SHA256 header."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _api_error(
    status: int, message: str, tag: str, code: int | None = None, **extra: Any
) -> ApiError:
    body = {
        "error": message,
        "error_code": code if code is not None else status,
        "error_extra": extra,
        "error_tag": tag,
        "http_code": status,
    }
    headers = [("WWW-Authenticate", 'Bearer realm="todoist"')] if status == 401 else []
    return ApiError(status, body, headers)


def _oauth_error(error: str, status: int = 400) -> ApiError:
    return ApiError(status, {"error": error}, [("Cache-Control", "no-store")])


# --------------------------------------------------------------------------- the stand-in


class TodoistStandIn(ApiStandIn):
    """Todoist OAuth + API v1 + webhooks. See the module docstring for behaviour.

    Knobs (reset between tests): ``auto_approve``, ``next_account``, ``refresh_enabled``,
    ``access_token_ttl``, ``clock``, ``fail_next()``, ``expire_access_token()``,
    ``revoke_access()``. Records: ``requests``, ``close_calls``, ``reopen_calls``, ``revoked``,
    ``tokens``, ``codes``, ``webhooks``.
    """

    kid_prefix = "todoist"
    fail_prefix = "/api/v1/"

    def __init__(
        self,
        client_id: str = "oo-todoist-test",
        client_secret: str | None = None,
        host_name: str = "127.0.0.1",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_hex(16)
        self._redirect_order: list[str] = []
        super().__init__(host_name)
        api = "/api/v1"
        for method, pattern, handler in (
            ("GET", r"/oauth/authorize", self._authorize),
            ("POST", r"/oauth/authorize", self._decide),
            ("POST", r"/oauth/access_token", self._token),
            ("POST", api + r"/revoke", self._revoke),
            ("GET", api + r"/user", self._authed(self._user, READ_SCOPES)),
            ("GET", api + r"/tasks", self._authed(self._list_tasks, READ_SCOPES)),
            ("GET", api + r"/tasks/filter", self._authed(self._filter_tasks, READ_SCOPES)),
            (
                "GET",
                api + r"/tasks/completed/by_completion_date",
                self._authed(self._completed, READ_SCOPES),
            ),
            ("GET", api + r"/tasks/(?P<task_id>\w+)", self._authed(self._get_task, READ_SCOPES)),
            (
                "POST",
                api + r"/tasks/(?P<task_id>\w+)/close",
                self._authed(self._close, WRITE_SCOPES),
            ),
            (
                "POST",
                api + r"/tasks/(?P<task_id>\w+)/reopen",
                self._authed(self._reopen, WRITE_SCOPES),
            ),
            ("GET", api + r"/projects", self._authed(self._list_projects, READ_SCOPES)),
            (
                "GET",
                api + r"/projects/(?P<project_id>\w+)",
                self._authed(self._get_project, READ_SCOPES),
            ),
        ):
            self.add_route(method, pattern, handler)

    def reset(self) -> None:
        """Forget accounts, tokens, codes, logs and knobs; keep URL, client and redirect URIs."""
        super().reset()
        self.accounts: dict[str, TodoistAccount] = {}
        self.default_user: str | None = None
        self.refresh_enabled = True
        self.access_token_ttl = 3600
        self.clock: Callable[[], datetime] = _utcnow
        self.codes: dict[str, TodoistCode] = {}  # type: ignore[assignment]
        self.tokens: list[TodoistToken] = []  # type: ignore[assignment]
        self.close_calls: list[str] = []
        self.reopen_calls: list[str] = []
        self.webhooks: list[WebhookDelivery] = []

    def allow_redirect(self, uri: str) -> None:
        """Register a redirect URI (the last registered is used when none is sent)."""
        super().allow_redirect(uri)
        if uri in self._redirect_order:
            self._redirect_order.remove(uri)
        self._redirect_order.append(uri)

    def env(self) -> dict[str, str]:
        """Environment variables of an app wired to this stand-in."""
        return {
            "TODOIST_CLIENT_ID": self.client_id,
            "TODOIST_CLIENT_SECRET": self.client_secret,
            "TODOIST_AUTHORIZE_URL": f"{self.url}/oauth/authorize",
            "TODOIST_TOKEN_URL": f"{self.url}/oauth/access_token",
            "TODOIST_API_URL": f"{self.url}/api/v1",
            "TODOIST_REVOKE_URL": f"{self.url}/api/v1/revoke",
        }

    # ----------------------------------------------------------------- accounts and data

    def add_user(self, email: str, full_name: str | None = None) -> TodoistAccount:
        """A Todoist account with an Inbox project (the first one added approves consents)."""
        if email in self.accounts:
            return self.accounts[email]
        user_id = str(10_000_000 + len(self.accounts) + secrets.randbelow(80_000_000))
        name = full_name or email.split("@")[0].replace(".", " ").title()
        account = TodoistAccount(email, user_id, name)
        self.accounts[email] = account
        inbox = self.add_project(account, "Inbox")
        inbox["inbox_project"] = True
        account.inbox_project_id = inbox["id"]
        if self.default_user is None:
            self.default_user = email
        return account

    def account(self, who: TodoistAccount | str) -> TodoistAccount:
        """The account for an account object or e-mail (created on first use)."""
        return who if isinstance(who, TodoistAccount) else self.add_user(who)

    @property
    def users(self) -> dict[str, TodoistAccount]:
        """Live access token → account."""
        return {t.access_token: t.account for t in self.tokens if t.live}

    def add_project(
        self,
        account: TodoistAccount | str,
        name: str,
        color: str = "charcoal",
        parent: dict[str, Any] | None = None,
        is_favorite: bool = False,
    ) -> dict[str, Any]:
        """A project (its live dict: edits show in the API)."""
        acct = self.account(account)
        now = todoist_time(self.clock())
        project: dict[str, Any] = {
            "id": todoist_id(),
            "name": name,
            "description": "",
            "color": color,
            "parent_id": parent["id"] if parent else None,
            "child_order": len(acct.projects) + 1,
            "is_collapsed": False,
            "is_shared": False,
            "is_favorite": is_favorite,
            "is_archived": False,
            "is_deleted": False,
            "can_assign_tasks": False,
            "inbox_project": False,
            "view_style": "list",
            "creator_uid": acct.id,
            "created_at": now,
            "updated_at": now,
        }
        acct.projects[project["id"]] = project
        return project

    def add_task(
        self,
        account: TodoistAccount | str,
        content: str,
        project: dict[str, Any] | str | None = None,
        priority: int = 1,
        due: date | datetime | str | dict[str, Any] | None = None,
        recurring_days: int | None = None,
        labels: Iterable[str] = (),
        description: str = "",
        deadline: date | None = None,
        duration: tuple[int, str] | None = None,
        parent: dict[str, Any] | None = None,
        section_id: str | None = None,
        added_at: datetime | None = None,
    ) -> dict[str, Any]:
        """A task (its live dict). ``project``: a project dict, id or name (created if new);
        ``recurring_days``: the due repeats every N days (``due.is_recurring``);
        ``duration``: (amount, "minute" | "day")."""
        acct = self.account(account)
        if not 1 <= priority <= 4:
            raise ValueError("priority is 1 (normal) … 4 (urgent)")
        if isinstance(project, dict):
            project_id = project["id"]
        elif isinstance(project, str):
            project_id = (acct.project(project) or self.add_project(acct, project))["id"]
        else:
            project_id = acct.inbox_project_id
        now = self.clock()
        task = {
            "id": todoist_id(),
            "user_id": acct.id,
            "project_id": project_id,
            "section_id": section_id,
            "parent_id": parent["id"] if parent else None,
            "added_by_uid": acct.id,
            "assigned_by_uid": None,
            "responsible_uid": None,
            "labels": list(labels),
            "deadline": {"date": deadline.isoformat(), "lang": "en"} if deadline else None,
            "duration": {"amount": duration[0], "unit": duration[1]} if duration else None,
            "checked": False,
            "is_deleted": False,
            "added_at": todoist_time(added_at or now),
            "completed_at": None,
            "updated_at": todoist_time(now),
            "due": make_due(due, recurring_days, now.date()),
            "priority": priority,
            "child_order": len(acct.tasks) + 1,
            "content": content,
            "description": description,
            "note_count": 0,
            "day_order": -1,
            "is_collapsed": False,
        }
        acct.tasks[task["id"]] = task
        if recurring_days:
            acct.recurrence[task["id"]] = recurring_days
        return task

    def find_task(self, task_id: str) -> tuple[TodoistAccount, dict[str, Any]]:
        """(account, live task) for a task id."""
        for acct in self.accounts.values():
            if task_id in acct.tasks:
                return acct, acct.tasks[task_id]
        raise KeyError(task_id)

    def complete_task(self, task: dict[str, Any] | str) -> dict[str, Any]:
        """Complete a task as the person would in the Todoist app (not logged in close_calls)."""
        acct, live = self.find_task(task if isinstance(task, str) else task["id"])
        self._complete(acct, live)
        return live

    def update_task(self, task: dict[str, Any] | str, **changes: Any) -> dict[str, Any]:
        """Edit a task as the person would in Todoist (bumps updated_at)."""
        _, live = self.find_task(task if isinstance(task, str) else task["id"])
        live.update(changes, updated_at=todoist_time(self.clock()))
        return live

    def delete_task(self, task: dict[str, Any] | str) -> dict[str, Any]:
        """Delete a task as the person would in Todoist (it leaves the API's lists)."""
        return self.update_task(task, is_deleted=True)

    # ----------------------------------------------------------------- tokens

    def issue_token(
        self, account: TodoistAccount | str, scope: str = "data:read_write"
    ) -> TodoistToken:
        """A token without the OAuth dance (a new grant), as the token endpoint would issue."""
        return self._issue(self.account(account), scope, secrets.token_hex(8))

    def _issue(self, account: TodoistAccount, scope: str, grant_id: str) -> TodoistToken:
        refresh = self.refresh_enabled
        token = TodoistToken(
            access_token=secrets.token_hex(20),
            refresh_token=secrets.token_hex(20) if refresh else None,
            account=account,
            scope=scope,
            grant_id=grant_id,
            expires_at=time.time() + self.access_token_ttl if refresh else None,
        )
        self.tokens.append(token)
        return token

    def token_response(self, token: TodoistToken) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": token.access_token, "token_type": "Bearer"}
        if token.refresh_token is not None:
            body["refresh_token"] = token.refresh_token
            body["expires_in"] = self.access_token_ttl
        return body

    def token(self, value: str) -> TodoistToken | None:
        """The issued token whose access or refresh token is ``value``."""
        for tok in self.tokens:
            if value in (tok.access_token, tok.refresh_token):
                return tok
        return None

    def expire_access_token(self, access_token: str) -> None:
        """The next API call with this token answers 401 (the client must refresh)."""
        tok = self.token(access_token)
        if tok is None:
            raise KeyError("unknown access token")
        tok.expires_at = time.time() - 1

    def revoke_access(self, account: TodoistAccount | str) -> None:
        """The person removes the app in Todoist's settings: every token of theirs dies."""
        acct = self.account(account)
        for tok in self.tokens:
            if tok.account is acct:
                tok.revoked = True

    # ----------------------------------------------------------------- OAuth endpoints

    def _redirect_for(self, requested: str | None) -> str:
        if requested:
            if requested not in self.redirect_uris:
                raise _oauth_error("invalid_redirect_uri")
            return requested
        if not self._redirect_order:
            raise _oauth_error("invalid_redirect_uri")
        return self._redirect_order[-1]

    def _check_authorize(self, req: Request) -> tuple[str, str, str]:
        """(redirect_uri, scope, state) or an error (no redirect for client/redirect errors)."""
        params = req.params
        if params.get("client_id") != self.client_id:
            raise _oauth_error("invalid_client")
        redirect = self._redirect_for(params.get("redirect_uri"))
        state = params.get("state", "")
        if not state:
            raise _oauth_error("invalid_request")
        scope = params.get("scope", "")
        scopes = [s for s in scope.split(",") if s]
        if not scopes or any(s not in SCOPES for s in scopes):
            location = add_params_to_uri(redirect, [("error", "invalid_scope"), ("state", state)])
            raise ApiError(302, b"", [("Location", location)])
        return redirect, scope, state

    def _approve(self, account: TodoistAccount, redirect: str, scope: str, state: str) -> Response:
        code = secrets.token_hex(20)
        self.codes[code] = TodoistCode(code, account, scope, redirect)
        location = add_params_to_uri(redirect, [("code", code), ("state", state)])
        return Response(302, b"", [("Location", location)])

    def _authorize(self, req: Request) -> Response:
        redirect, scope, state = self._check_authorize(req)
        account = self.account(self.next_account or self.default_user or "ada@example.com")
        if self.auto_approve:
            return self._approve(account, redirect, scope, state)
        fields = {**req.params, "account": account.email}
        page = consent_page(
            "Todoist (stand-in) — allow access?",
            account,  # type: ignore[arg-type]
            self.client_id,
            "/oauth/authorize",
            fields,
        )
        return Response.html(page)

    def _decide(self, req: Request) -> Response:
        redirect, scope, state = self._check_authorize(req)
        if req.params.get("decision") != "approve":
            location = add_params_to_uri(redirect, [("error", "access_denied"), ("state", state)])
            return Response(302, b"", [("Location", location)])
        account = self.account(req.params.get("account") or self.default_user or "ada@example.com")
        return self._approve(account, redirect, scope, state)

    def _token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form.items() if v}
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            raise _oauth_error("invalid_client", 401)
        grant_type = form.get("grant_type", "authorization_code")
        if grant_type == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            if (
                code is None
                or code.used
                or time.time() - code.issued_at > CODE_LIFETIME
                or ("redirect_uri" in form and form["redirect_uri"] != code.redirect_uri)
            ):
                raise _oauth_error("invalid_grant")
            code.used = True
            token = self._issue(code.account, code.scope, secrets.token_hex(8))
        elif grant_type == "refresh_token":
            value = form.get("refresh_token", "")
            old = self.token(value) if value else None
            if old is None or old.refresh_token != value or old.revoked or old.rotated:
                raise _oauth_error("invalid_grant")
            old.rotated = True
            token = self._issue(old.account, old.scope, old.grant_id)
        else:
            raise _oauth_error("unsupported_grant_type")
        resp = Response.json(self.token_response(token))
        resp.headers.append(("Cache-Control", "no-store"))
        return resp

    def _revoke(self, req: Request) -> Response:
        scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        if (
            scheme.lower() != "basic"
            or client_id != self.client_id
            or not secrets.compare_digest(secret, self.client_secret)
        ):
            raise ApiError(
                401, {"error": "invalid_client"}, [("WWW-Authenticate", 'Basic realm="todoist"')]
            )
        value = req.params.get("token", "")
        if not value:
            raise _oauth_error("invalid_request")
        self.revoked.append(value)
        tok = self.token(value)
        if tok is not None:
            for other in self.tokens:
                if other.grant_id == tok.grant_id:
                    other.revoked = True
        return Response(200, b"")

    # ----------------------------------------------------------------- API plumbing

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

    def _complete(self, acct: TodoistAccount, task: dict[str, Any]) -> None:
        """Close ``task`` (idempotent); a recurring one moves to its next date instead."""
        if task["checked"]:
            return
        now = self.clock()
        stamp = todoist_time(now)
        step = acct.recurrence.get(task["id"])
        if step and task["due"] and task["due"]["is_recurring"]:
            acct.completions.append({**copy.deepcopy(task), "checked": True, "completed_at": stamp})
            task["due"] = {**task["due"], "date": self._advance(task["due"], step, now)}
            task["updated_at"] = stamp
            return
        task.update(checked=True, completed_at=stamp, updated_at=stamp)
        acct.completions.append(copy.deepcopy(task))
        for child in list(acct.tasks.values()):
            if child["parent_id"] == task["id"] and not child["checked"]:
                self._complete(acct, child)

    @staticmethod
    def _advance(due: dict[str, Any], step_days: int, now: datetime) -> str:
        """The next occurrence: due + step, repeated until it is not in the past (a date-only
        due may land on today; a timed one lands after ``now``). Keeps the date's format."""
        moment = _due_moment(due)
        step = timedelta(days=step_days)
        if isinstance(moment, datetime):
            aware = moment.tzinfo is not None
            ref = now if aware else now.replace(tzinfo=None)
            moment += step
            while moment <= ref:
                moment += step
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if aware else "%Y-%m-%dT%H:%M:%S")
        moment += step
        while moment < now.date():
            moment += step
        return moment.isoformat()

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

    # ----------------------------------------------------------------- webhooks

    def webhook_request(
        self,
        event_name: str,
        task: dict[str, Any],
        user_id: str | None = None,
        delivery_id: str | None = None,
        secret: str | None = None,
        tamper: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """(raw body, headers) of a Todoist webhook delivery, for tests posting it themselves.

        The body is compact JSON with non-ASCII kept as UTF-8, so an app that re-serialises
        the parsed JSON before checking the signature fails, as it would with Todoist.
        ``tamper`` signs a different body than the one returned (a forgery).
        """
        if not (event_name in ITEM_EVENTS or event_name.split(":")[0] in ("note", "project")):
            raise ValueError(f"unknown Todoist event {event_name!r}")
        owner = self._owner(task)
        uid = user_id or (owner.id if owner else str(task.get("user_id", "")))
        initiator = {
            "id": uid,
            "email": owner.email if owner else "",
            "full_name": owner.full_name if owner else "",
            "image_id": None,
            "is_premium": False,
        }
        payload = {
            "version": "1",
            "user_id": uid,
            "initiator": initiator,
            "event_name": event_name,
            "event_data": task,
            "triggered_at": todoist_time(self.clock()),
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        signed = body
        if tamper:
            forged = {**payload, "event_data": {**task, "content": f"{task.get('content')}!"}}
            signed = json.dumps(forged, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Todoist-Webhooks",
            "X-Todoist-Hmac-SHA256": webhook_signature(secret or self.client_secret, signed),
            "X-Todoist-Delivery-ID": delivery_id or str(uuid.uuid4()),
        }
        return body, headers

    def send_webhook(
        self,
        target_url: str,
        event_name: str,
        task: dict[str, Any],
        user_id: str | None = None,
        delivery_id: str | None = None,
        secret: str | None = None,
        tamper: bool = False,
        client: httpx.Client | None = None,
    ) -> int:
        """POST a signed webhook to ``target_url``; the HTTP status the app answered.

        ``client``: send with this httpx client (e.g. one with a ``MockTransport``) instead of
        a fresh one. The delivery is kept in ``webhooks`` (see ``redeliver``).
        """
        body, headers = self.webhook_request(event_name, task, user_id, delivery_id, secret, tamper)
        delivery = WebhookDelivery(
            headers["X-Todoist-Delivery-ID"], event_name, target_url, body, headers
        )
        self.webhooks.append(delivery)
        return self._deliver(delivery, client)

    def redeliver(
        self, delivery: WebhookDelivery | None = None, client: httpx.Client | None = None
    ) -> int:
        """Send a delivery (default: the last) again, byte for byte with the same
        X-Todoist-Delivery-ID, as Todoist retries a non-200 answer."""
        return self._deliver(delivery or self.webhooks[-1], client)

    def _deliver(self, delivery: WebhookDelivery, client: httpx.Client | None) -> int:
        if client is None:
            with httpx.Client(timeout=10, trust_env=False) as own:
                return self._deliver(delivery, own)
        resp = client.post(delivery.target_url, content=delivery.body, headers=delivery.headers)
        delivery.statuses.append(resp.status_code)
        return resp.status_code

    def _owner(self, task: dict[str, Any]) -> TodoistAccount | None:
        for acct in self.accounts.values():
            if task.get("id") in acct.tasks:
                return acct
        return None
