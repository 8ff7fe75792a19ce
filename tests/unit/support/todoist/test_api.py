"""Self-test of the Todoist stand-in's data API: paging, failures, close / reopen, filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from tests.support.todoist_standin import TodoistStandIn
from tests.unit.support.todoist.client import bearer


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
