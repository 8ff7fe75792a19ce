"""Self-test of the Todoist stand-in's OAuth: consent, codes, refresh, revocation, env."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.idp_common import parse_form_post
from tests.support.todoist_standin import TodoistStandIn
from tests.unit.support.todoist.client import CB, bearer, connect, refresh

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


def test_env(todoist_env: dict[str, str], todoist: TodoistStandIn) -> None:
    assert todoist_env == {
        "TODOIST_CLIENT_ID": todoist.client_id,
        "TODOIST_CLIENT_SECRET": todoist.client_secret,
        "TODOIST_AUTHORIZE_URL": f"{todoist.url}/oauth/authorize",
        "TODOIST_TOKEN_URL": f"{todoist.url}/oauth/access_token",
        "TODOIST_API_URL": f"{todoist.url}/api/v1",
        "TODOIST_REVOKE_URL": f"{todoist.url}/api/v1/revoke",
    }
