"""The Todoist connector across a connection's life: a reconnection within the hour syncs
again, disconnecting leaves no copy of the tasks' titles behind, and a webhook delivery that
was refused for its body is still taken when Todoist retries it with a valid one."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.integrations.conftest import (
    background_sync_done,
    connect_todoist,
    eventually,
    signed_in,
)
from tests.support.fixtures import LiveServer
from tests.support.todoist_standin import TodoistStandIn, webhook_signature


def _email() -> str:
    return f"life-{uuid.uuid4().hex[:8]}@example.com"


def _task_reads(todoist: TodoistStandIn, email: str) -> int:
    return len([r for r in todoist.calls("GET", "/api/v1/tasks") if r.user == email])


async def _redis_values_of(user_id: str) -> list[str]:
    from backend.redis import get_redis, key

    redis = get_redis()
    found = []
    async for name in redis.scan_iter(match=key("*") + "*"):
        if user_id in str(name) and await redis.type(name) == "string":
            found.append(str(await redis.get(name)))
    return found


async def test_a_reconnection_within_the_hour_syncs_again(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.integrations.lifecycle import first_sync_job

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    todoist.add_task(account, "Renew the passport")
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)
    first = await first_sync_job(user_id, "todoist")
    reads = _task_reads(todoist, email)
    assert reads >= 1

    assert client.post(
        "/integrations/todoist/disconnect",
        headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
    ).status_code in (200, 303)
    todoist.add_task(account, "Book the dentist")
    connect_todoist(integrations_server, todoist, client, email)
    assert await first_sync_job(user_id, "todoist") != first, "each connection its own sync"
    await background_sync_done(user_id)

    async def read_again() -> bool:
        return _task_reads(todoist, email) > reads

    assert await eventually(read_again)


async def test_disconnecting_leaves_no_task_title_in_redis(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    title = f"Secret surprise party {uuid.uuid4().hex[:6]}"
    todoist.add_task(account, title)
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)
    assert any(title in v for v in await _redis_values_of(user_id)), "the sync cached it"

    headers = {"x-csrftoken": client.cookies.get("csrftoken", "")}
    body = client.post(
        "/graphql",
        json={"query": 'mutation { disconnectIntegration(source: "todoist") { errors { code } } }'},
        headers=headers,
    ).json()
    assert body["data"]["disconnectIntegration"]["errors"] == []
    assert not any(title in v for v in await _redis_values_of(user_id))


async def test_a_refused_delivery_is_taken_when_retried_with_a_valid_body(
    integrations_server: LiveServer, todoist: TodoistStandIn
) -> None:
    from backend.integrations.tables import SourceCompletion

    user_id, client = await signed_in(integrations_server)
    email = _email()
    account = todoist.add_user(email)
    task = todoist.add_task(account, "Water the ferns", project="Home")
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id)
    hook = f"{integrations_server.url}/webhooks/todoist"
    delivery = uuid.uuid4().hex

    def deliver(body: bytes) -> int:
        headers = {
            "X-Todoist-Hmac-SHA256": webhook_signature(todoist.client_secret, body),
            "X-Todoist-Delivery-ID": delivery,
            "Content-Type": "application/json",
        }
        return httpx.post(hook, content=body, headers=headers, timeout=60).status_code

    assert deliver(b'{"event_name": "item:completed"') == 400  # cut short in transit
    completed = todoist.complete_task(task)
    assert todoist.send_webhook(hook, "item:completed", completed, delivery_id=delivery) == 200

    async def kept() -> list[dict[str, object]]:
        return await SourceCompletion.select().where(SourceCompletion.user == user_id)

    rows = await eventually(kept)
    assert len(rows) == 1
