"""Fixtures of the notifier tests: the push service stand-in, a signed-in browser-like client."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.fixtures import LiveServer, make_person
from tests.support.push_standin import BrowserSubscription, PushStandIn

T = TypeVar("T")

SUBSCRIBE = """
mutation($s: PushSubscriptionInput!, $label: String) {
  subscribePush(subscription: $s, deviceLabel: $label) {
    subscription { id endpoint deviceLabel createdAt lastSuccessAt lastFailureAt }
    errors { code message field }
  }
}
"""
SEND_TEST = "mutation { sendTestPush { queued tipId errors { code message } } }"
TIP = "query { tip { id content kind } }"


@pytest.fixture(scope="session")
def push_server() -> Iterator[PushStandIn]:
    """The session's push service stand-in (prefer ``push_service``)."""
    server = PushStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def push_service(push_server: PushStandIn) -> PushStandIn:
    """The push service stand-in, reset for this test."""
    push_server.reset()
    return push_server


async def signed_in(server: LiveServer, tasks: bool = True) -> tuple[str, httpx.Client]:
    """A fresh person (with demo tasks) and a client signed in as them by session cookie."""
    from backend.identity.service import create_sign_in_link

    person = await make_person(tasks=tasks)
    link = await create_sign_in_link(person.user_id)
    client = server.client()
    client.get(server.url + urlsplit(link).path)
    assert "sid" in client.cookies
    return person.user_id, client


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL call with the page's CSRF header."""
    headers = {"x-csrftoken": client.cookies.get("csrftoken", "")}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def subscribe(
    client: httpx.Client, browser: BrowserSubscription, label: str = "laptop"
) -> dict[str, Any]:
    """subscribePush with the browser's toJSON(); the payload."""
    result = gql(client, SUBSCRIBE, s=browser.to_json(), label=label)
    return result["data"]["subscribePush"]  # type: ignore[no-any-return]


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Poll until `check` returns something truthy, or fail at the deadline."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
