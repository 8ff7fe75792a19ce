"""Helpers for integration tests (the `integrations_server` fixture is in standin_fixtures)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from tests.support.fixtures import LiveServer
from tests.support.todoist_standin import TodoistStandIn

T = TypeVar("T")


async def signed_in(server: LiveServer, tasks: bool = False) -> tuple[str, httpx.Client]:
    """A fresh person and a browser-like client signed in as them."""
    from backend.identity.service import create_sign_in_link
    from tests.support.fixtures import make_person

    person = await make_person(tasks=tasks)
    link = await create_sign_in_link(person.user_id)
    client = server.client()
    client.get(server.url + urlsplit(link).path)
    assert "sid" in client.cookies
    return person.user_id, client


def connect_todoist(
    server: LiveServer, todoist: TodoistStandIn, client: httpx.Client, email: str
) -> None:
    """The whole OAuth dance over HTTP (the stand-in approves at once)."""
    todoist.auto_approve = True
    todoist.next_account = email
    start = client.get("/integrations/todoist/connect")
    assert start.status_code == 302, start.text
    back = httpx.get(start.headers["location"], follow_redirects=False, timeout=60)
    assert back.status_code == 302, back.text
    done = client.get(back.headers["location"])
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/connect"


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL call with the page's CSRF header."""
    headers = {"x-csrftoken": client.cookies.get("csrftoken", "")}
    body = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return body.json()  # type: ignore[no-any-return]


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 15.0) -> T:
    """Poll until `check` returns something truthy (jobs run in the worker process)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


async def background_sync_done(user_id: str, source: str = "todoist") -> None:
    """Connecting starts a sync in the worker (one job per connection): wait for it, so it
    cannot take a failure, or read and write, in the middle of what a test checks."""
    from arq.jobs import Job, JobStatus

    from backend.integrations.lifecycle import first_sync_job
    from backend.queue import get_queue, queue_name

    job_id = await first_sync_job(user_id, source)
    assert job_id is not None, "connecting queued no first sync"
    job = Job(job_id, await get_queue(), _queue_name=queue_name())

    async def done() -> bool:
        return await job.status() == JobStatus.complete

    await eventually(done)
