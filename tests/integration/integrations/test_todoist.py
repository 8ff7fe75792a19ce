"""Todoist as a real signal source, over real HTTP against the API v1 stand-in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.integration.integrations.conftest import (
    background_sync_done,
    connect_todoist,
    eventually,
    gql,
    signed_in,
)
from tests.support.fixtures import LiveServer
from tests.support.todoist_standin import TodoistStandIn

TIP = "{ tip { id content source kind project } }"
INTEGRATIONS = "{ integrations { source status connected needsReconnect itemsSeen error } }"
SYNC = 'mutation { syncIntegration(source: "todoist") { integration { status itemsSeen } errors { code message } } }'
FEEDBACK = (
    "mutation($id: ID!) { feedback(tipId: $id, action: DONE, dwellMs: 30000) "
    "{ reward errors { code } } }"
)


def _email() -> str:
    return f"t-{uuid.uuid4().hex[:8]}@example.com"


def _status(client: object, source: str = "todoist") -> dict[str, object]:
    rows = gql(client, INTEGRATIONS)["data"]["integrations"]  # type: ignore[arg-type]
    return next(r for r in rows if r["source"] == source)


async def test_connect_sync_three_pages_and_serve(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    for i in range(430):  # 200 per page → 3 pages
        todoist.add_task(account, f"Task number {i}", project="Work", priority=1 + i % 4)
    connect_todoist(integrations_server, todoist, client, email)
    result = gql(client, SYNC)["data"]["syncIntegration"]
    assert result["errors"] == []
    assert result["integration"] == {"status": "connected", "itemsSeen": 430}
    task_pages = [r for r in todoist.calls("GET", "/api/v1/tasks") if r.user == email]
    # 430 items at 200 per page: the manual sync read three pages, following two cursors.
    # (Connecting also starts a background sync, which may be mid-way: count what it cannot fake.)
    assert all(r.params.get("limit") == "200" for r in task_pages)
    followed = [r for r in task_pages if r.params.get("cursor")]
    assert len(followed) >= 2  # itemsSeen == 430 above: all three pages were read
    tip = gql(client, TIP)["data"]["tip"]
    assert tip["source"] == "todoist"
    assert tip["content"].startswith("Task number")
    assert tip["project"] == "Work"


async def test_refresh_mid_sync_rotates_and_stores_the_new_refresh_token(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.identity.vault import get_credential

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    todoist.add_task(account, "Water the plants")
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)  # its refresh must not race the one this test makes
    before = await get_credential(user_id, "todoist")
    assert before is not None
    assert before.refresh_token is not None
    todoist.expire_access_token(before.access_token.reveal())
    result = gql(client, SYNC)["data"]["syncIntegration"]
    assert result["errors"] == []
    after = await get_credential(user_id, "todoist")
    assert after is not None
    assert after.refresh_token is not None
    assert after.refresh_token.reveal() != before.refresh_token.reveal()  # rotated and stored
    assert after.access_token.reveal() != before.access_token.reveal()
    # The new refresh token is the one the provider will accept next.
    assert todoist.token(after.access_token.reveal()) is not None


async def test_revoked_access_needs_reconnect_on_the_connect_page(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    todoist.add_task(account, "Renew passport")
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)
    todoist.revoke_access(account)
    result = gql(client, SYNC)["data"]["syncIntegration"]
    assert result["errors"][0]["code"] == "NEEDS_RECONNECT"
    assert _status(client)["needsReconnect"] is True
    page = client.get("/connect").text
    assert "Needs reconnect" in page
    assert "Reconnect" in page


async def test_rate_limit_is_reported_and_not_hammered(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    todoist.add_task(account, "Book dentist")
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)  # connecting starts one; it must not take the 429

    def calls() -> int:
        return len([r for r in todoist.requests if r.user == email])

    calls_before = calls()
    todoist.fail_next(429, n=1, retry_after=7, user=email)
    result = gql(client, SYNC)["data"]["syncIntegration"]
    assert result["errors"][0]["code"] == "RATE_LIMITED"
    assert "7 s" in result["errors"][0]["message"]
    assert calls() - calls_before == 1  # no retry storm on the request path


async def test_done_closes_at_todoist_exactly_once_even_if_the_job_runs_twice(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.queue import enqueue

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    task = todoist.add_task(account, "Send the invoice")
    connect_todoist(integrations_server, todoist, client, email)
    gql(client, SYNC)
    tip = gql(client, TIP)["data"]["tip"]
    assert tip["content"] == "Send the invoice"
    assert gql(client, FEEDBACK, id=tip["id"])["data"]["feedback"]["errors"] == []

    await eventually(lambda: _closed(todoist, task["id"]))
    # The same job again (a retry, a duplicate enqueue): no second close.
    await enqueue(
        "complete_item", user_id, f"todoist:{task['id']}", tip["id"], job_id=f"again:{tip['id']}"
    )
    await eventually(lambda: _job_done(f"again:{tip['id']}"))
    assert todoist.close_calls.count(task["id"]) == 1


async def _closed(todoist: TodoistStandIn, task_id: str) -> bool:
    return task_id in todoist.close_calls


async def _job_done(job_id: str) -> bool:
    from arq.jobs import Job, JobStatus

    from backend.queue import get_queue, queue_name

    job = Job(job_id, await get_queue(), _queue_name=queue_name())
    return await job.status() == JobStatus.complete


async def test_webhooks_forged_replayed_and_delayed_reward(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.recommender.tables import Feedback

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    task = todoist.add_task(account, "Call grandma")
    connect_todoist(integrations_server, todoist, client, email)
    gql(client, SYNC)
    tip = gql(client, TIP)["data"]["tip"]
    assert tip["content"] == "Call grandma"
    hook = f"{integrations_server.url}/webhooks/todoist"

    completed = todoist.complete_task(task)
    assert todoist.send_webhook(hook, "item:completed", completed, tamper=True) == 401
    assert todoist.send_webhook(hook, "item:completed", completed) == 200
    assert todoist.redeliver() == 200  # same delivery id: acknowledged, not applied twice

    async def reward() -> list[dict[str, object]]:
        return await Feedback.select().where(Feedback.tip == tip["id"])

    rows = await eventually(reward)
    assert len(rows) == 1
    assert rows[0]["reward_source"] == "source"
    assert rows[0]["action"] == "done"
    # The tip is answered: the next tip is not the completed task.
    nxt = gql(client, TIP)["data"]["tip"]
    assert nxt is None or nxt["id"] != tip["id"]


async def test_webhook_with_a_bad_body_is_refused(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    import httpx

    from tests.support.todoist_standin import webhook_signature

    body = b'{"not": "a todoist event"}'
    headers = {
        "X-Todoist-Hmac-SHA256": webhook_signature(todoist.client_secret, body),
        "X-Todoist-Delivery-ID": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    response = httpx.post(
        f"{integrations_server.url}/webhooks/todoist", content=body, headers=headers
    )
    assert response.status_code == 400


async def test_database_never_holds_feed_titles_except_served_tips(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from piccolo.columns import JSON, JSONB, Text, Varchar

    from backend.privacy.registry import registry_tables

    _, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    marker = uuid.uuid4().hex[:10]
    titles = [f"Secret title <{marker}:{i}>" for i in range(12)]  # no title inside another
    for title in titles:
        todoist.add_task(account, title, due=datetime.now(UTC).date() - timedelta(days=1))
    connect_todoist(integrations_server, todoist, client, email)
    gql(client, SYNC)
    served = gql(client, TIP)["data"]["tip"]["content"]

    found: dict[str, set[str]] = {}
    for _app, table in registry_tables():
        text_columns = [
            c for c in table._meta.columns if isinstance(c, Varchar | Text | JSON | JSONB)
        ]
        for row in await table.select(*text_columns):
            for value in row.values():
                for title in titles:
                    if title in str(value):
                        found.setdefault(title, set()).add(table._meta.tablename)
    assert set(found) <= {served}, f"feed titles stored: {found}"
    # The decision log of served tips, and the profile's history read model of the same tips
    # (purged and deleted with it).
    allowed = {"served_tip", "shadow_decision", "tip_history"}
    assert found.get(served, set()) <= allowed


async def test_not_configured_says_so(live_server: LiveServer) -> None:
    _, client = await signed_in(live_server)
    body = gql(
        client,
        'mutation { connectIntegration(source: "todoist") { authorizeUrl errors { code message } } }',
    )
    error = body["data"]["connectIntegration"]["errors"][0]
    assert error["code"] == "NOT_CONFIGURED"
    assert "TODOIST_CLIENT_ID" in error["message"]
