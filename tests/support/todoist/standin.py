"""A Todoist-shaped server on 127.0.0.1: OAuth + unified API v1 + signed webhooks.

One server plays both hosts (``todoist.com/oauth/*`` and ``api.todoist.com/api/v1/*``), so the
app's real connector talks HTTP to it. The server, thread and ASGI plumbing are ``StandInBase``'s
(``idp_common``); ``ApiStandIn`` (``api_base``) adds what a data API needs on top: path parameters
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

from tests.support.todoist.api import TodoistApi
from tests.support.todoist.model import READ_SCOPES, WRITE_SCOPES
from tests.support.todoist.oauth import TodoistOAuth
from tests.support.todoist.webhooks import TodoistWebhooks


class TodoistStandIn(TodoistOAuth, TodoistApi, TodoistWebhooks):
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
        super().__init__(client_id, client_secret, host_name)
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
