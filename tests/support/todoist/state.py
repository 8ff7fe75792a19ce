"""What the Todoist stand-in holds: accounts, projects, tasks, completions, issued tokens."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from tests.support.todoist.api_base import ApiStandIn
from tests.support.todoist.model import (
    TodoistAccount,
    TodoistCode,
    TodoistToken,
    WebhookDelivery,
    _due_moment,
    _utcnow,
    make_due,
    todoist_id,
    todoist_time,
)


class TodoistState(ApiStandIn):
    """The stand-in's data and the Python API tests use to arrange it (no HTTP here).

    ``oauth``, ``api`` and ``webhooks`` build on it; ``TodoistStandIn`` routes them.
    """

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

    # ----------------------------------------------------------------- completing tasks

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
