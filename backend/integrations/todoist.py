"""Todoist (unified API v1): tokens that refresh themselves, cursor paging, 429 back-off.

Only tokens (in the vault) and computed derivatives are kept; task titles live in the short
Redis cache, never in the database (except a served tip's text in the decision log).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from backend.contracts.candidate import Candidate
from backend.identity.vault import Credential, get_credential
from backend.integrations import tokens
from backend.integrations.errors import NeedsReconnect, RateLimited, SourceError
from backend.redis import get_redis, key
from backend.settings import get_settings

PROVIDER = "todoist"
PREFIX = "todoist:"
PAGE_LIMIT = 200
MAX_PAGES = 50
REFRESH_MARGIN = timedelta(seconds=60)
_TIMEOUT = httpx.Timeout(10.0)


def _parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _due_date(due: Any) -> date | None:
    if not isinstance(due, dict) or not isinstance(due.get("date"), str):
        return None
    try:
        return date.fromisoformat(due["date"][:10])
    except ValueError:
        return None


def _duration_minutes(duration: Any) -> int | None:
    if not isinstance(duration, dict):
        return None
    amount = duration.get("amount")
    if not isinstance(amount, int):
        return None
    return amount * (24 * 60 if duration.get("unit") == "day" else 1)


def _priority(value: Any) -> int:
    """Todoist's 1..4 (anything else: 1, normal)."""
    return value if isinstance(value, int) and 1 <= value <= 4 else 1


def normalise(task: dict[str, Any], projects: dict[str, str]) -> Candidate:
    """A Todoist task as a candidate (features are computed from these fields)."""
    due = task.get("due")
    project = projects.get(str(task.get("project_id")), "")
    duration = _duration_minutes(task.get("duration"))
    return Candidate(
        item_ref=f"{PREFIX}{task['id']}",
        source=PROVIDER,
        kind="task",
        content=str(task.get("content", "")),
        priority=int(task.get("priority") or 1),
        due_date=_due_date(due),
        added_at=_parse_dt(task.get("added_at")),
        project=project,
        is_recurring=bool(isinstance(due, dict) and due.get("is_recurring")),
        duration_min=duration,
        detail={
            "project": project,
            "labels": list(task.get("labels") or []),
            "recur_days": 0,
        },
    )


@dataclass(frozen=True)
class CompletedTask:
    """One completion of a task (a recurring task has one per occurrence); never its title."""

    item_ref: str
    project: str
    due_date: date | None
    completed_at: datetime
    priority: int = 1
    """1 (normal) … 4 (urgent), as the task was when completed."""
    added_at: datetime | None = None
    """When the task was added (Todoist's `added_at`)."""
    recurring: bool = False
    """Its due date recurs (`due.is_recurring`)."""


def _wire_time(moment: datetime, up: bool = False) -> str:
    """Whole seconds in UTC; `up` rounds up, so an `until` keeps this second's completions."""
    moment = moment.astimezone(UTC)
    if up and moment.microsecond:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class TodoistClient:
    """API calls for one person; refreshes the access token before expiry and on a 401."""

    def __init__(self, user_id: str, http: httpx.AsyncClient | None = None) -> None:
        self.user_id = user_id
        self._http = http or httpx.AsyncClient(timeout=_TIMEOUT)
        self._credential: Credential | None = None
        self._projects: dict[str, str] | None = None

    async def __aenter__(self) -> TodoistClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def _load(self) -> Credential:
        if self._credential is None:
            self._credential = await get_credential(self.user_id, PROVIDER)
        if self._credential is None:
            raise NeedsReconnect("Todoist is not connected.")
        return self._credential

    async def refresh(self) -> Credential:
        """Trade the refresh token for new tokens; Todoist rotates it, so store the new one.

        Refresh tokens are single-use, so two processes refreshing at once (a scheduled sync
        and "sync now") would leave the loser with a dead token: refreshes of one person are
        serialised, and one that finds the tokens already renewed by another simply uses them.
        """
        seen = await self._load()
        lock = get_redis().lock(key("refresh-lock", self.user_id, PROVIDER), timeout=30)
        async with lock:
            latest = await get_credential(self.user_id, PROVIDER)
            if latest is not None and latest.access_token != seen.access_token:
                self._credential = latest
                return latest
            return await self._refresh_now()

    async def _refresh_now(self) -> Credential:
        cred = await self._load()
        if cred.refresh_token is None:
            raise NeedsReconnect("Todoist's access expired. Reconnect Todoist to continue.")
        s = get_settings()
        response = await self._http.post(
            s.todoist_token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": cred.refresh_token.reveal(),
                "client_id": s.todoist_client_id,
                "client_secret": s.todoist_client_secret,
            },
        )
        if response.status_code in (400, 401):
            raise NeedsReconnect("Todoist no longer accepts oO's access. Reconnect Todoist.")
        if response.status_code >= 400:
            raise SourceError(f"Todoist could not refresh access (HTTP {response.status_code}).")
        token = response.json()
        await store_token(self.user_id, cred.subject, token)
        self._credential = await get_credential(self.user_id, PROVIDER)
        return await self._load()

    async def request(self, method: str, path: str, **params: Any) -> httpx.Response:
        """One API call: refresh when about to expire, retry once after a 401."""
        cred = await self._load()
        if cred.expires_at is not None and cred.expires_at - REFRESH_MARGIN <= datetime.now(UTC):
            cred = await self.refresh()
        url = f"{get_settings().todoist_api_url}{path}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {cred.access_token.reveal()}"}
            try:
                response = await self._http.request(
                    method, url, params=params or None, headers=headers
                )
            except httpx.HTTPError as err:
                raise SourceError("Todoist could not be reached.") from err
            if response.status_code == 401 and attempt == 1:
                cred = await self.refresh()
                continue
            if response.status_code == 401:
                raise NeedsReconnect("Todoist no longer accepts oO's access. Reconnect Todoist.")
            if response.status_code == 429:
                raise RateLimited(_retry_after(response))
            if response.status_code >= 400:
                raise SourceError(f"Todoist answered HTTP {response.status_code}.")
            return response
        raise AssertionError("unreachable")

    async def pages(self, path: str, key: str = "results", **params: Any) -> AsyncIterator[Any]:
        """Every item of a cursor-paged list."""
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": PAGE_LIMIT}
            if cursor:
                query["cursor"] = cursor
            body = (await self.request("GET", path, **query)).json()
            for item in body.get(key) or []:
                yield item
            cursor = body.get("next_cursor")
            if not cursor:
                return

    async def projects(self) -> dict[str, str]:
        """Project names by id (read once per client)."""
        if self._projects is None:
            self._projects = {
                str(p["id"]): str(p.get("name", "")) async for p in self.pages("/projects")
            }
        return self._projects

    async def open_tasks(self) -> list[Candidate]:
        """Every active task, normalised (projects first, to name them)."""
        projects = await self.projects()
        return [
            normalise(t, projects)
            async for t in self.pages("/tasks")
            if not t.get("checked") and not t.get("is_deleted")
        ]

    async def completed_since(self, since: datetime, until: datetime) -> list[CompletedTask]:
        """Completions between two moments (Todoist allows a range of at most 3 months)."""
        raw = [
            t
            async for t in self.pages(
                "/tasks/completed/by_completion_date",
                key="items",
                since=_wire_time(since),
                until=_wire_time(until, up=True),
            )
        ]
        projects = await self.projects() if raw else {}
        done = []
        for task in raw:
            at = _parse_dt(task.get("completed_at"))
            if at is None or task.get("id") is None:
                continue
            due = task.get("due")
            done.append(
                CompletedTask(
                    item_ref=f"{PREFIX}{task['id']}",
                    project=projects.get(str(task.get("project_id")), ""),
                    due_date=_due_date(due),
                    completed_at=at,
                    priority=_priority(task.get("priority")),
                    added_at=_parse_dt(task.get("added_at")),
                    recurring=bool(isinstance(due, dict) and due.get("is_recurring")),
                )
            )
        return done

    async def close_task(self, task_id: str) -> None:
        """Close a task (a recurring one moves to its next date at Todoist)."""
        await self.request("POST", f"/tasks/{task_id}/close")


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("retry-after", "30")))
    except ValueError:
        return 30.0


async def store_token(user_id: str, subject: str, token: dict[str, Any]) -> None:
    """Keep a token response in the vault (the new refresh token replaces the old one)."""
    scopes = tuple(str(token.get("scope", "data:read_write")).split(","))
    await tokens.store_token(user_id, PROVIDER, subject, token, scopes=scopes)


async def revoke(token: str) -> None:
    """Revoke an access token at Todoist (RFC 7009, Basic auth with the app's credentials)."""
    s = get_settings()
    async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
        await http.post(
            s.todoist_revoke_url,
            data={"token": token, "token_type_hint": "access_token"},
            auth=(s.todoist_client_id, s.todoist_client_secret),
        )


async def with_backoff(call: Any, attempts: int = 3, cap_s: float = 60.0) -> Any:
    """Await `call()` again after a 429's Retry-After (bounded), for background jobs only."""
    for attempt in range(attempts):
        try:
            return await call()
        except RateLimited as err:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(min(err.retry_after, cap_s))
    raise AssertionError("unreachable")


class TodoistSource:
    """Todoist as a signal source."""

    name = PROVIDER

    async def list_items(self, user_id: str) -> list[Candidate]:
        """Open tasks, straight from Todoist (callers cache)."""
        async with TodoistClient(user_id) as client:
            return await client.open_tasks()

    async def complete(self, user_id: str, item_ref: str) -> bool:
        """Close the task at Todoist (idempotence is the caller's once-marker)."""
        async with TodoistClient(user_id) as client:
            await client.close_task(item_ref.removeprefix(PREFIX))
        return True
