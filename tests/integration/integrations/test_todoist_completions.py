"""Tasks completed in Todoist join the person's completion history, over real HTTP against the
API v1 stand-in (``/tasks/completed/by_completion_date``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.contracts.sources import CompletionRecord, completions_since
from backend.integrations.tables import SourceCompletion
from tests.integration.integrations.conftest import (
    background_sync_done,
    connect_todoist,
    eventually,
    gql,
    signed_in,
)
from tests.support.fixtures import LiveServer
from tests.support.todoist_standin import TodoistStandIn

SYNC = (
    'mutation { syncIntegration(source: "todoist") '
    "{ integration { status itemsSeen } errors { code message } } }"
)
COMPLETED_PATH = "/api/v1/tasks/completed/by_completion_date"


def _email() -> str:
    return f"c-{uuid.uuid4().hex[:8]}@example.com"


def _is_todoist(record: CompletionRecord) -> bool:
    return record.item_ref.startswith("todoist:")


async def _history(user_id: str) -> list[CompletionRecord]:
    since = datetime.now(UTC) - timedelta(days=90)
    return [r for r in await completions_since([user_id], since) if _is_todoist(r)]


def _moment(wire: str) -> datetime:
    assert wire.endswith("Z")
    return datetime.fromisoformat(wire.replace("Z", "+00:00"))


def _sync(client: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = gql(client, SYNC)["data"]["syncIntegration"]
    return result


@contextmanager
def _failures_only_on(todoist: TodoistStandIn, path: str) -> Iterator[None]:
    """`fail_next` applies to the calls under `path` only (the task list keeps answering)."""
    todoist.fail_prefix = path
    try:
        yield
    finally:
        del todoist.fail_prefix  # back to the class's "/api/v1/"


async def test_completions_join_the_history_once_and_feed_the_habits(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.recommender.habits_cache import habits_of
    from backend.redis import get_redis, key

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    now = datetime.now(UTC)
    marker = uuid.uuid4().hex[:10]
    report_added = (now - timedelta(days=20)).replace(microsecond=0)
    report = todoist.add_task(
        account,
        f"Write the report <{marker}>",
        project="Work",
        priority=4,
        due=now.date() - timedelta(days=5),
        added_at=report_added,
    )
    stretch = todoist.add_task(
        account,
        f"Stretch <{marker}>",
        project="Health",
        due=now.date() - timedelta(days=2),
        recurring_days=1,
    )
    todoist.add_task(account, f"Still open <{marker}>", project="Work")
    # Completed over the last days, as the person did in the Todoist app.
    todoist.clock = lambda: now - timedelta(days=2, hours=3)
    todoist.complete_task(report)
    todoist.clock = lambda: now - timedelta(days=2, hours=2)
    todoist.complete_task(stretch)
    todoist.clock = lambda: now - timedelta(days=1, hours=5)
    todoist.complete_task(stretch)  # the recurring task again: same id, another completion
    todoist.clock = lambda: datetime.now(UTC)

    connect_todoist(integrations_server, todoist, client, email)
    result = _sync(client)
    assert result["errors"] == []
    assert result["integration"] == {"status": "connected", "itemsSeen": 2}

    history = await _history(user_id)
    assert [(r.item_ref, r.project, r.due_date) for r in history] == [
        (f"todoist:{report['id']}", "Work", now.date() - timedelta(days=5)),
        (f"todoist:{stretch['id']}", "Health", now.date() - timedelta(days=2)),
        (f"todoist:{stretch['id']}", "Health", now.date() - timedelta(days=1)),
    ]
    assert all(r.content == "" for r in history)
    assert abs(history[2].at - (now - timedelta(days=1, hours=5))) < timedelta(seconds=1)
    # What the person's choice model is fitted on (history_fit.py): each completed task's
    # priority, when it was added and whether it recurs, as Todoist's completed items carry them.
    assert [(r.priority, r.recurring) for r in history] == [(4, False), (1, True), (1, True)]
    assert history[0].added_at == report_added
    assert history[1].added_at == history[2].added_at == _moment(stretch["added_at"])

    # Syncing again (and the background sync connecting started) adds nothing twice.
    await background_sync_done(user_id)
    assert _sync(client)["errors"] == []
    assert await _history(user_id) == history

    # A task completed after the last sync appears after the next one.
    errand = todoist.add_task(account, f"Call the bank <{marker}>", project="Home")
    todoist.complete_task(errand)
    assert _sync(client)["errors"] == []
    latest = await _history(user_id)
    assert latest[:3] == history
    assert [(r.item_ref, r.project, r.due_date) for r in latest[3:]] == [
        (f"todoist:{errand['id']}", "Home", None)
    ]
    # The first read went 88 days back; later ones start a day before the latest kept.
    reads = [r for r in todoist.calls("GET", COMPLETED_PATH) if r.user == email]
    first_since, last_since = (_moment(r.params["since"]) for r in (reads[0], reads[-1]))
    assert now - timedelta(days=89) < first_since < now - timedelta(days=87)
    assert abs(last_since - (now - timedelta(days=2, hours=5))) < timedelta(seconds=2)

    # No title reaches the table.
    rows = await SourceCompletion.select().where(SourceCompletion.user == user_id)
    assert len(rows) == 4
    assert not [row for row in rows if marker in str(row)]
    assert {row["source"] for row in rows} == {"todoist"}

    # The completion habits count them.
    await get_redis().delete(key("habits", user_id))
    habits = await habits_of(user_id, "UTC", datetime.now(UTC))
    assert habits.by_project.get("Health") == 2
    assert habits.by_project.get("Work") == 1
    assert habits.by_project.get("Home") == 1
    assert habits.late >= 1  # the report was done days after its due date
    # Too short a history for a choice model of its own (fewer than MIN_CHOICES choices).
    assert habits.choice is None


async def test_failing_completions_keep_the_open_tasks(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.integrations.service import open_items

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    todoist.add_task(account, "Pay rent", project="Home")
    todoist.add_task(account, "Plan the trip", project="Travel")
    done = todoist.add_task(account, "Return the parcel", project="Home")
    todoist.complete_task(done)
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)
    await SourceCompletion.delete().where(SourceCompletion.user == user_id)

    with _failures_only_on(todoist, COMPLETED_PATH):
        todoist.fail_next(500, user=email)
        result = _sync(client)
        assert result["errors"] == []
        assert result["integration"] == {"status": "connected", "itemsSeen": 2}
        failed = [r for r in todoist.calls("GET", COMPLETED_PATH) if r.user == email]
        assert failed[-1].status == 500
        assert await _history(user_id) == []
        items = await open_items(user_id)
        assert {c.content for c in items if c.source == "todoist"} == {
            "Pay rent",
            "Plan the trip",
        }

        # A 429 is the sync's as for the task list: reported, retried later by the job.
        todoist.fail_next(429, retry_after=9, user=email)
        errors = _sync(client)["errors"]
        assert [e["code"] for e in errors] == ["RATE_LIMITED"]
        assert "9 s" in errors[0]["message"]

    # The next sync reads them.
    assert _sync(client)["errors"] == []
    history = await _history(user_id)
    assert [(r.item_ref, r.project) for r in history] == [(f"todoist:{done['id']}", "Home")]


async def test_a_completion_webhook_joins_the_history_at_once_and_once(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    due = datetime.now(UTC).date()
    task = todoist.add_task(account, "Pay the rent", project="Home", due=due, priority=3)
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)
    assert _sync(client)["errors"] == []  # the task is known (open) before it is completed
    assert await _history(user_id) == []

    completed = todoist.complete_task(task)  # in the Todoist app, not through oO
    hook = f"{integrations_server.url}/webhooks/todoist"
    assert todoist.send_webhook(hook, "item:completed", completed) == 200

    # No sync ran: the webhook alone put it in the history, named from the known task.
    history = await eventually(lambda: _history(user_id))
    assert [(r.item_ref, r.project, r.due_date, r.content) for r in history] == [
        (f"todoist:{task['id']}", "Home", due, "")
    ]
    assert (history[0].priority, history[0].recurring) == (3, False)
    assert history[0].added_at == _moment(task["added_at"])
    # The next sync reads the same completion from the API and does not keep it twice.
    assert _sync(client)["errors"] == []
    assert await _history(user_id) == history
