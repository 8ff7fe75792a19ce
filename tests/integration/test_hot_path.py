"""The hot path at the floor (ADR 0030, ADR 0043), counted in process: a cached `tip` is one
Redis round trip (limits, cost, caller, the caller's generation and cached tip in one script)
and no SQL query once the caller is cached; the caller is looked up once per request however
many fields ask; revocation still bites on the very next request."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.support.counting import Counts
from tests.support.fixtures import DemoPerson

TIP = "{ tip { id content } }"
MANY_FIELDS = "{ me { id name } tip { id } agents { id } a: me { email } }"


@pytest.fixture
async def app_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app in process over ASGI (no lifespan: nothing runs beside the requests)."""
    from backend.app import create_app

    # An address of this test's own: its limits are spent (and counted) as for any caller.
    address = f"10.251.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    with warnings.catch_warnings():  # Litestar 2 deprecations, in its own and Strawberry's code
        warnings.simplefilter("ignore", DeprecationWarning)
        app = create_app()
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def _post(client: httpx.AsyncClient, query: str, **options: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query}, **options)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def _steady(client: httpx.AsyncClient, **options: Any) -> str:
    """Ask until the tip comes from the cache (the first pick, then the cache filled)."""
    first = (await _post(client, TIP, **options))["data"]["tip"]["id"]
    again = (await _post(client, TIP, **options))["data"]["tip"]["id"]
    assert again == first
    return str(first)


async def test_a_cached_tip_by_token_is_one_round_trip_and_no_query(
    app_client: httpx.AsyncClient,
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    count_round_trips: Callable[[], Any],
) -> None:
    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    tip_id = await _steady(app_client, **options)
    counts: Counts
    for _ in range(3):  # several in a row: none falls back to the database
        with count_round_trips() as counts:
            body = await _post(app_client, TIP, **options)
        assert body["data"]["tip"]["id"] == tip_id
        assert len(counts.redis) == 1, counts.redis  # the one script: limits, cost, caller, tip
        assert counts.sql == [], counts.sql  # the token's owner, vouched for by the generation


async def test_a_cached_tip_by_session_is_one_round_trip_and_no_query(
    app_client: httpx.AsyncClient, person: DemoPerson, count_round_trips: Callable[[], Any]
) -> None:
    from backend.identity.service import create_session

    app_client.cookies.set("sid", await create_session(person.user_id))
    tip_id = await _steady(app_client)
    with count_round_trips() as counts:
        body = await _post(app_client, TIP)
    assert body["data"]["tip"]["id"] == tip_id
    assert len(counts.redis) == 1, counts.redis  # the session came with the limits
    assert counts.sql == [], counts.sql  # the person, vouched for by the generation


async def test_the_caller_is_looked_up_once_however_many_fields_ask(
    app_client: httpx.AsyncClient,
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    count_round_trips: Callable[[], Any],
) -> None:
    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    await _steady(app_client, **options)
    with count_round_trips() as counts:
        body = await _post(app_client, MANY_FIELDS, **options)
    assert body["data"]["me"]["id"] == person.user_id
    assert counts.sql == [], counts.sql  # `agents` is the registry: no query of its own
    assert len(counts.redis) == 1, counts.redis
    from backend.identity.principal_cache import CACHE

    CACHE.clear()  # the caller not cached: one lookup, however many fields ask
    with count_round_trips() as counts:
        await _post(app_client, MANY_FIELDS, **options)
    assert len([q for q in counts.sql if "token_hash" in q]) == 1, counts.sql
    assert len(counts.sql) == 1, counts.sql


async def test_revoking_a_session_or_a_token_bites_on_the_next_request(
    app_client: httpx.AsyncClient, person: DemoPerson, token_for: Callable[[DemoPerson], Any]
) -> None:
    from backend.identity.service import (
        create_session,
        end_session,
        list_api_tokens,
        revoke_api_token,
    )

    sid = await create_session(person.user_id)
    app_client.cookies.set("sid", sid)
    await _steady(app_client)
    await end_session(sid)
    gone = await app_client.post("/graphql", json={"query": TIP})
    assert gone.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    app_client.cookies.clear()

    token = await token_for(person)
    options = {"headers": {"authorization": f"Bearer {token}"}}
    await _steady(app_client, **options)
    (row,) = await list_api_tokens(person.user_id)
    assert await revoke_api_token(person.user_id, str(row["id"]))
    refused = await app_client.post("/graphql", json={"query": TIP}, **options)
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
