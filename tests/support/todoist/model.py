"""Todoist's objects and wire formats: accounts, tokens, codes, due dates, webhooks, errors."""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tests.support.todoist.api_base import ApiError

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
