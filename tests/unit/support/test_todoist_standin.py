"""Self-test of the Todoist stand-in, driven with plain httpx as the app would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.idp_common import parse_form_post
from tests.support.todoist_standin import TodoistStandIn

CB = "http://127.0.0.1:9/integrations/todoist/callback"
HOOK = "http://127.0.0.1:9/webhooks/todoist"
TASK_KEYS = {
    "id",
    "content",
    "description",
    "project_id",
    "section_id",
    "parent_id",
    "labels",
    "priority",
    "checked",
    "is_deleted",
    "child_order",
    "day_order",
    "note_count",
    "added_at",
    "updated_at",
    "completed_at",
    "due",
    "deadline",
    "duration",
}


@pytest.fixture
def td(todoist: TodoistStandIn) -> TodoistStandIn:
    todoist.allow_redirect(CB)
    return todoist


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def connect(http: httpx.Client, td: TodoistStandIn, state: str = "st-1") -> dict[str, str]:
    """Authorize (auto-approved) and exchange the code, as the app's connect flow does."""
    td.auto_approve = True
    query = {"client_id": td.client_id, "scope": "data:read_write", "state": state}
    resp = http.get(f"{td.url}/oauth/authorize", params=query)
    assert resp.status_code == 302, resp.text
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    form = {"client_id": td.client_id, "client_secret": td.client_secret, "code": code}
    token = http.post(f"{td.url}/oauth/access_token", data=form)
    assert token.status_code == 200, token.text
    body: dict[str, str] = token.json()
    return body


def refresh(http: httpx.Client, td: TodoistStandIn, refresh_token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": td.client_id,
        "client_secret": td.client_secret,
    }
    return http.post(f"{td.url}/oauth/access_token", data=form)


def test_consent_code_token_and_three_pages_of_tasks(
    http: httpx.Client, td: TodoistStandIn
) -> None:
    ada = td.add_user("ada@example.com")
    work = td.add_project(ada, "Work")
    made = [td.add_task(ada, f"task {i}", project=work, priority=1 + i % 4) for i in range(7)]

    query = {"client_id": td.client_id, "scope": "data:read,data:read_write", "state": "s-42"}
    page = http.get(f"{td.url}/oauth/authorize", params={**query, "redirect_uri": CB})
    assert page.status_code == 200
    assert 'id="approve"' in page.text
    assert "ada@example.com" in page.text
    action, fields = parse_form_post(page.text)
    approved = http.post(td.url + action, data={**fields, "decision": "approve"})
    assert approved.status_code == 302
    location = urlsplit(approved.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CB
    got = parse_qs(location.query)
    assert got["state"] == ["s-42"]

    form = {"client_id": td.client_id, "client_secret": td.client_secret, "code": got["code"][0]}
    form["redirect_uri"] = CB
    token = http.post(f"{td.url}/oauth/access_token", data=form).json()
    assert token["token_type"] == "Bearer"
    assert set(token) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert token["expires_in"] == td.access_token_ttl

    seen: list[dict[str, object]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        resp = http.get(
            f"{td.url}/api/v1/tasks", params=params, headers=bearer(token["access_token"])
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert set(body) == {"results", "next_cursor"}
        seen.extend(body["results"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [t["id"] for t in seen] == [t["id"] for t in made]
    assert set(seen[0]) >= TASK_KEYS
    assert seen[0]["project_id"] == work["id"]
    assert seen[0]["due"] is None
    assert isinstance(seen[0]["id"], str)

    calls = td.calls("GET", "/api/v1/tasks")
    assert len(calls) == 3
    assert calls[0].headers["authorization"] == "Bearer ***"
    assert calls[0].user == "ada@example.com"
    assert calls[1].params["cursor"]
    assert all(c.status == 200 for c in calls)
    assert td.calls("POST", "/oauth/access_token")[0].params["client_secret"] == "***"


def test_paging_arguments_are_checked(http: httpx.Client, td: TodoistStandIn) -> None:
    ada = td.add_user("ada@example.com")
    for i in range(3):
        td.add_task(ada, f"t{i}")
    auth = bearer(td.issue_token(ada).access_token)
    assert (
        http.get(f"{td.url}/api/v1/tasks", params={"limit": 201}, headers=auth).status_code == 400
    )
    assert http.get(f"{td.url}/api/v1/tasks", params={"limit": 0}, headers=auth).status_code == 400
    bad = http.get(f"{td.url}/api/v1/tasks", params={"cursor": "made-up"}, headers=auth)
    assert bad.status_code == 400
    assert bad.json()["error_extra"] == {"argument": "cursor"}
    first = http.get(f"{td.url}/api/v1/tasks", params={"limit": 1}, headers=auth).json()
    other_filter = {"limit": 1, "cursor": first["next_cursor"], "label": "x"}
    assert http.get(f"{td.url}/api/v1/tasks", params=other_filter, headers=auth).status_code == 400
    everything = http.get(f"{td.url}/api/v1/tasks", headers=auth).json()
    assert len(everything["results"]) == 3
    assert everything["next_cursor"] is None


def test_projects_page_and_user(http: httpx.Client, td: TodoistStandIn) -> None:
    ada = td.add_user("ada@example.com", "Ada Lovelace")
    for name in ("Work", "Home", "Errands"):
        td.add_project(ada, name)
    auth = bearer(td.issue_token(ada).access_token)
    first = http.get(f"{td.url}/api/v1/projects", params={"limit": 2}, headers=auth).json()
    second = http.get(
        f"{td.url}/api/v1/projects",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=auth,
    ).json()
    names = [p["name"] for p in first["results"] + second["results"]]
    assert names == ["Inbox", "Work", "Home", "Errands"]
    assert second["next_cursor"] is None
    assert first["results"][0]["inbox_project"] is True
    assert {"id", "name", "color", "parent_id", "child_order", "is_favorite", "is_archived"} <= set(
        first["results"][0]
    )
    user = http.get(f"{td.url}/api/v1/user", headers=auth).json()
    assert (user["id"], user["email"], user["full_name"]) == (ada.id, ada.email, "Ada Lovelace")


def test_code_is_single_use_and_client_is_checked(http: httpx.Client, td: TodoistStandIn) -> None:
    td.auto_approve = True
    query = {"client_id": td.client_id, "scope": "data:read", "state": "s"}
    location = http.get(f"{td.url}/oauth/authorize", params=query).headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {"client_id": td.client_id, "client_secret": "wrong", "code": code}
    assert http.post(f"{td.url}/oauth/access_token", data=form).json()["error"] == "invalid_client"
    form["client_secret"] = td.client_secret
    assert http.post(f"{td.url}/oauth/access_token", data=form).status_code == 200
    replay = http.post(f"{td.url}/oauth/access_token", data=form)
    assert (replay.status_code, replay.json()) == (400, {"error": "invalid_grant"})


def test_authorize_rejects_bad_requests(http: httpx.Client, td: TodoistStandIn) -> None:
    base = {"client_id": td.client_id, "scope": "data:read", "state": "s"}
    bad_client = http.get(f"{td.url}/oauth/authorize", params={**base, "client_id": "nobody"})
    assert bad_client.status_code == 400
    evil = http.get(f"{td.url}/oauth/authorize", params={**base, "redirect_uri": "http://evil/"})
    assert evil.status_code == 400
    assert "location" not in evil.headers
    no_state = http.get(f"{td.url}/oauth/authorize", params={**base, "state": ""})
    assert no_state.status_code == 400
    bad_scope = http.get(f"{td.url}/oauth/authorize", params={**base, "scope": "everything"})
    assert bad_scope.status_code == 302
    assert parse_qs(urlsplit(bad_scope.headers["location"]).query)["error"] == ["invalid_scope"]
    page = http.get(f"{td.url}/oauth/authorize", params=base)
    action, fields = parse_form_post(page.text)
    denied = http.post(td.url + action, data={**fields, "decision": "deny"})
    got = parse_qs(urlsplit(denied.headers["location"]).query)
    assert (got["error"], got["state"]) == (["access_denied"], ["s"])


def test_refresh_rotates_the_refresh_token(http: httpx.Client, td: TodoistStandIn) -> None:
    td.add_task("ada@example.com", "water plants")
    first = connect(http, td)
    second = refresh(http, td, first["refresh_token"])
    assert second.status_code == 200, second.text
    new = second.json()
    assert new["access_token"] != first["access_token"]
    assert new["refresh_token"] != first["refresh_token"]
    old = refresh(http, td, first["refresh_token"])
    assert (old.status_code, old.json()) == (400, {"error": "invalid_grant"})
    assert (
        http.get(f"{td.url}/api/v1/tasks", headers=bearer(new["access_token"])).status_code == 200
    )
    assert refresh(http, td, new["refresh_token"]).status_code == 200


def test_without_refresh_tokens_as_legacy_apps(http: httpx.Client, td: TodoistStandIn) -> None:
    td.refresh_enabled = False
    body = connect(http, td)
    assert set(body) == {"access_token", "token_type"}


def test_expired_access_token_then_refresh(http: httpx.Client, td: TodoistStandIn) -> None:
    td.add_task("ada@example.com", "call mum")
    token = connect(http, td)
    td.expire_access_token(token["access_token"])
    expired = http.get(f"{td.url}/api/v1/tasks", headers=bearer(token["access_token"]))
    assert expired.status_code == 401
    assert expired.json()["error_tag"] == "AUTH_INVALID_TOKEN"
    assert expired.json()["error"]
    fresh = refresh(http, td, token["refresh_token"]).json()
    ok = http.get(f"{td.url}/api/v1/tasks", headers=bearer(fresh["access_token"]))
    assert ok.status_code == 200
    assert http.get(f"{td.url}/api/v1/tasks").status_code == 401


def test_revoke_with_basic_auth_ends_the_grant(http: httpx.Client, td: TodoistStandIn) -> None:
    token = connect(http, td)
    rotated = refresh(http, td, token["refresh_token"]).json()
    form = {"token": rotated["access_token"], "token_type_hint": "access_token"}
    wrong = http.post(f"{td.url}/api/v1/revoke", data=form, auth=(td.client_id, "nope"))
    assert wrong.status_code == 401
    ok = http.post(f"{td.url}/api/v1/revoke", data=form, auth=(td.client_id, td.client_secret))
    assert ok.status_code == 200
    assert td.revoked == [rotated["access_token"]]
    for access in (token["access_token"], rotated["access_token"]):
        assert http.get(f"{td.url}/api/v1/tasks", headers=bearer(access)).status_code == 401
    assert refresh(http, td, rotated["refresh_token"]).json() == {"error": "invalid_grant"}
    unknown = {"token": "unknown", "token_type_hint": "access_token"}
    again = http.post(
        f"{td.url}/api/v1/revoke", data=unknown, auth=(td.client_id, td.client_secret)
    )
    assert again.status_code == 200


def test_fail_next(http: httpx.Client, td: TodoistStandIn) -> None:
    auth = bearer(td.issue_token("ada@example.com").access_token)
    td.fail_next(429, n=2, retry_after=7)
    td.fail_next(500)
    for _ in range(2):
        limited = http.get(f"{td.url}/api/v1/tasks", headers=auth)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "7"
        assert limited.json()["error_extra"] == {"retry_after": 7}
    assert http.get(f"{td.url}/api/v1/tasks", headers=auth).status_code == 500
    assert http.get(f"{td.url}/api/v1/tasks", headers=auth).status_code == 200
    td.fail_next(401)
    assert http.get(f"{td.url}/api/v1/projects", headers=auth).status_code == 401
    assert http.get(f"{td.url}/api/v1/projects", headers=auth).status_code == 200
    td.fail_next(429)
    assert http.get(f"{td.url}/api/v1/tasks", headers=auth).headers["retry-after"] == "1"
    assert [c.status for c in td.calls()] == [429, 429, 500, 200, 401, 200, 429]


def test_close_is_idempotent_and_every_close_is_recorded(
    http: httpx.Client, td: TodoistStandIn
) -> None:
    ada = td.add_user("ada@example.com")
    task = td.add_task(ada, "send invoice", due=date.today(), priority=4)
    other = td.add_task(ada, "stay open")
    auth = bearer(td.issue_token(ada).access_token)
    url = f"{td.url}/api/v1/tasks/{task['id']}/close"
    assert http.post(url, headers=auth).status_code == 204
    assert task["checked"] is True
    assert task["completed_at"]
    assert http.post(url, headers=auth).status_code == 204  # closing a closed task: a no-op
    assert td.close_calls == [task["id"], task["id"]]
    open_ids = [t["id"] for t in http.get(f"{td.url}/api/v1/tasks", headers=auth).json()["results"]]
    assert open_ids == [other["id"]]
    now = datetime.now(UTC)
    window = {
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(1)).isoformat(),
    }
    done = http.get(
        f"{td.url}/api/v1/tasks/completed/by_completion_date", params=window, headers=auth
    ).json()
    assert [i["id"] for i in done["items"]] == [task["id"]]
    assert done["next_cursor"] is None
    assert http.post(f"{td.url}/api/v1/tasks/nope/close", headers=auth).status_code == 404
    reopen = http.post(f"{td.url}/api/v1/tasks/{task['id']}/reopen", headers=auth)
    assert reopen.status_code == 204
    assert task["checked"] is False
    assert td.reopen_calls == [task["id"]]


def test_closing_needs_read_write_scope(http: httpx.Client, td: TodoistStandIn) -> None:
    task = td.add_task("ada@example.com", "x")
    auth = bearer(td.issue_token("ada@example.com", scope="data:read").access_token)
    assert http.get(f"{td.url}/api/v1/tasks", headers=auth).status_code == 200
    assert http.post(f"{td.url}/api/v1/tasks/{task['id']}/close", headers=auth).status_code == 403
    assert td.close_calls == []


def test_recurring_close_moves_the_due_date(http: httpx.Client, td: TodoistStandIn) -> None:
    now = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    td.clock = lambda: now
    ada = td.add_user("ada@example.com")
    daily = td.add_task(ada, "stretch", due=date(2025, 3, 9), recurring_days=1)
    weekly = td.add_task(ada, "review", due=date(2025, 3, 10), recurring_days=7)
    timed = td.add_task(
        ada, "standup", due=datetime(2025, 3, 10, 9, 0, tzinfo=UTC), recurring_days=1
    )
    assert daily["due"] == {
        "date": "2025-03-09",
        "string": "every day",
        "lang": "en",
        "is_recurring": True,
        "timezone": None,
    }
    assert timed["due"]["date"] == "2025-03-10T09:00:00Z"
    auth = bearer(td.issue_token(ada).access_token)
    for task in (daily, weekly, timed):
        assert (
            http.post(f"{td.url}/api/v1/tasks/{task['id']}/close", headers=auth).status_code == 204
        )
    assert daily["due"]["date"] == "2025-03-10"  # overdue daily: next occurrence not in the past
    assert weekly["due"]["date"] == "2025-03-17"
    assert timed["due"]["date"] == "2025-03-11T09:00:00Z"
    assert all(t["checked"] is False and t["completed_at"] is None for t in (daily, weekly, timed))
    listed = http.get(f"{td.url}/api/v1/tasks", headers=auth).json()["results"]
    assert {t["id"] for t in listed} == {daily["id"], weekly["id"], timed["id"]}
    window = {"since": "2025-03-01T00:00:00Z", "until": "2025-03-31T00:00:00Z"}
    done = http.get(
        f"{td.url}/api/v1/tasks/completed/by_completion_date", params=window, headers=auth
    ).json()["items"]
    assert len(done) == 3
    assert all(i["checked"] and i["completed_at"] == "2025-03-10T09:30:00.000000Z" for i in done)


def test_filter_subset(http: httpx.Client, td: TodoistStandIn) -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    td.clock = lambda: now
    ada = td.add_user("ada@example.com")
    today = td.add_task(ada, "today", due=date(2025, 3, 10))
    late = td.add_task(ada, "late", due=date(2025, 3, 1), priority=4, project="Work")
    earlier_today = td.add_task(ada, "09:00", due=datetime(2025, 3, 10, 9, tzinfo=UTC))
    later = td.add_task(ada, "later", due=date(2025, 4, 1), project="Work", labels=["deep"])
    undated = td.add_task(ada, "someday")
    auth = bearer(td.issue_token(ada).access_token)

    def ids(query: str) -> set[str]:
        resp = http.get(f"{td.url}/api/v1/tasks/filter", params={"query": query}, headers=auth)
        assert resp.status_code == 200, resp.text
        return {t["id"] for t in resp.json()["results"]}

    assert ids("today") == {today["id"], earlier_today["id"]}
    assert ids("overdue") == {late["id"], earlier_today["id"]}
    assert ids("today | overdue") == {today["id"], late["id"], earlier_today["id"]}
    assert ids("#work") == {late["id"], later["id"]}
    assert ids("#Work & p1") == {late["id"]}
    assert ids("@deep") == {later["id"]}
    assert ids("no date") == {undated["id"]}
    bad = http.get(f"{td.url}/api/v1/tasks/filter", params={"query": "(today)"}, headers=auth)
    assert bad.status_code == 400
    assert http.get(f"{td.url}/api/v1/tasks/filter", headers=auth).status_code == 400


def test_completed_range_is_at_most_three_months(http: httpx.Client, td: TodoistStandIn) -> None:
    auth = bearer(td.issue_token("ada@example.com").access_token)
    url = f"{td.url}/api/v1/tasks/completed/by_completion_date"
    ok = {"since": "2025-01-01T00:00:00Z", "until": "2025-04-01T00:00:00Z"}
    assert http.get(url, params=ok, headers=auth).json() == {"items": [], "next_cursor": None}
    too_long = {"since": "2025-01-01T00:00:00Z", "until": "2025-04-01T00:00:01Z"}
    assert http.get(url, params=too_long, headers=auth).status_code == 400
    assert http.get(url, params={"since": ok["since"]}, headers=auth).status_code == 400


def test_task_shapes(td: TodoistStandIn) -> None:
    ada = td.add_user("ada@example.com")
    zoned = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    task = td.add_task(
        ada,
        "write report",
        due=zoned,
        deadline=date(2025, 3, 12),
        duration=(45, "minute"),
        labels=["work"],
        priority=3,
    )
    assert task["due"]["date"] == "2025-03-10T09:00:00Z"
    assert task["due"]["timezone"] == "UTC"
    assert task["deadline"] == {"date": "2025-03-12", "lang": "en"}
    assert task["duration"] == {"amount": 45, "unit": "minute"}
    floating = td.add_task(ada, "floating", due=datetime(2025, 3, 10, 9, 0))
    assert floating["due"]["date"] == "2025-03-10T09:00:00"
    assert floating["due"]["timezone"] is None
    with pytest.raises(ValueError, match="priority"):
        td.add_task(ada, "bad", priority=5)


class Receiver:
    """The app's webhook endpoint, as far as the signature goes (bytes as they arrived)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.seen: list[httpx.Request] = []
        self.delivery_ids: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        raw = request.content
        expected = base64.b64encode(hmac.new(self.secret.encode(), raw, hashlib.sha256).digest())
        given = request.headers.get("x-todoist-hmac-sha256", "").encode()
        if not hmac.compare_digest(expected, given):
            return httpx.Response(403)
        self.delivery_ids.add(request.headers["x-todoist-delivery-id"])
        return httpx.Response(200)


def test_webhook_signature_over_raw_body(td: TodoistStandIn) -> None:
    ada = td.add_user("ada@example.com")
    task = td.add_task(ada, "café ☕ order")
    td.complete_task(task)
    receiver = Receiver(td.client_secret)
    with httpx.Client(transport=httpx.MockTransport(receiver)) as client:
        assert td.send_webhook(HOOK, "item:completed", task, client=client) == 200
        assert td.send_webhook(HOOK, "item:completed", task, tamper=True, client=client) == 403
        assert td.send_webhook(HOOK, "item:added", task, secret="other", client=client) == 403
        assert td.redeliver(td.webhooks[0], client=client) == 200
    first, forged, _, retried = receiver.seen
    assert first.content == retried.content
    assert first.headers["x-todoist-delivery-id"] == retried.headers["x-todoist-delivery-id"]
    assert len(receiver.delivery_ids) == 1
    assert first.headers["user-agent"] == "Todoist-Webhooks"
    assert "café ☕".encode() in first.content  # raw UTF-8, not \\u escapes
    body = json.loads(first.content)
    assert body["version"] == "1"
    assert body["user_id"] == ada.id
    assert body["event_name"] == "item:completed"
    assert body["initiator"]["email"] == "ada@example.com"
    assert body["event_data"]["id"] == task["id"]
    assert body["event_data"]["checked"] is True
    assert body["triggered_at"].endswith("Z")
    assert json.loads(forged.content) == body | {
        "triggered_at": json.loads(forged.content)["triggered_at"]
    }
    assert td.webhooks[0].statuses == [200, 200]
    assert td.close_calls == []  # completed "in the Todoist app", not through the API
    with pytest.raises(ValueError, match="unknown Todoist event"):
        td.webhook_request("item:exploded", task)


def test_webhook_over_real_http(http: httpx.Client, td: TodoistStandIn) -> None:
    task = td.add_task("ada@example.com", "x")
    # Nothing listens at this path of the stand-in itself: the status is what came back.
    assert td.send_webhook(f"{td.url}/no-webhook-here", "item:added", task) == 404


def test_env(todoist_env: dict[str, str], todoist: TodoistStandIn) -> None:
    assert todoist_env == {
        "TODOIST_CLIENT_ID": todoist.client_id,
        "TODOIST_CLIENT_SECRET": todoist.client_secret,
        "TODOIST_AUTHORIZE_URL": f"{todoist.url}/oauth/authorize",
        "TODOIST_TOKEN_URL": f"{todoist.url}/oauth/access_token",
        "TODOIST_API_URL": f"{todoist.url}/api/v1",
        "TODOIST_REVOKE_URL": f"{todoist.url}/api/v1/revoke",
    }
