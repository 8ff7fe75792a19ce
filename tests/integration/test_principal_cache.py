"""The caller vouched for by the request's one Redis round trip (ADR 0043), against the real
Redis and database: a warm caller costs no SQL; a change made in one process (a revoked token,
a new role, a deleted account, a signed-out session) is seen by another process's very next
request; an entry older than TRUST_S is checked again; with Redis away the database answers.

"Another process" is a second PrincipalCache swapped in for the module's own: the app reads
`principal_cache.CACHE` on each lookup, and the caches share nothing but Redis — as two
replicas do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.integration.test_hot_path import TIP, _post, _steady, app_client  # noqa: F401
from tests.support.clock import ManualClock
from tests.support.fixtures import DemoPerson

ME = "{ me { id role } }"


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], Any]:
    """`with in_process(cache):` — requests and changes in the block use that cache."""
    from backend.identity import principal_cache

    @contextlib.contextmanager
    def in_process(cache: Any) -> Iterator[Any]:
        monkeypatch.setattr(principal_cache, "CACHE", cache)
        yield cache

    return in_process


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_a_revoked_token_is_refused_by_another_process_at_once(
    app_client: httpx.AsyncClient,  # noqa: F811
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    count_round_trips: Callable[[], Any],
    processes: Callable[[Any], Any],
) -> None:
    from backend.identity.principal_cache import PrincipalCache
    from backend.identity.service import list_api_tokens, revoke_api_token

    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    here, there = PrincipalCache(), PrincipalCache()
    with processes(there):
        await _steady(app_client, **options)
        with count_round_trips() as counts:
            await _post(app_client, TIP, **options)
        assert counts.sql == []  # `there` answers from its cache
        assert len(there) == 1
    with processes(here):
        (row,) = await list_api_tokens(person.user_id)
        assert await revoke_api_token(person.user_id, str(row["id"]))
    with processes(there):
        refused = await app_client.post("/graphql", json={"query": TIP}, **options)
        assert _code(refused) == "UNAUTHENTICATED"
        assert len(there) == 0


async def test_a_role_change_is_seen_by_another_process_at_once(
    app_client: httpx.AsyncClient,  # noqa: F811
    token_for: Callable[[DemoPerson], Any],
    processes: Callable[[Any], Any],
) -> None:
    from backend.identity.principal_cache import PrincipalCache
    from backend.identity.service import set_role
    from tests.support.fixtures import make_person

    admin = await make_person(tasks=False, role="admin")
    options = {"headers": {"authorization": f"Bearer {await token_for(admin)}"}}
    here, there = PrincipalCache(), PrincipalCache()
    with processes(there):
        for _ in range(3):
            assert (await _post(app_client, ME, **options))["data"]["me"]["role"] == "admin"
        assert len(there) == 1
    with processes(here):
        await set_role(admin.user_id, "user")
    with processes(there):
        assert (await _post(app_client, ME, **options))["data"]["me"]["role"] == "user"


async def test_a_deleted_account_is_refused_by_another_process_at_once(
    app_client: httpx.AsyncClient,  # noqa: F811
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    processes: Callable[[Any], Any],
) -> None:
    from backend.identity.principal_cache import PrincipalCache
    from backend.privacy.service import delete_account

    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    here, there = PrincipalCache(), PrincipalCache()
    with processes(there):
        for _ in range(3):
            assert (await _post(app_client, ME, **options))["data"]["me"]["id"] == person.user_id
        assert len(there) == 1
    with processes(here):
        await delete_account(person.user_id)
    with processes(there):
        refused = await app_client.post("/graphql", json={"query": ME}, **options)
        assert _code(refused) == "UNAUTHENTICATED"


async def test_a_signed_out_session_is_refused_by_another_process_at_once(
    app_client: httpx.AsyncClient,  # noqa: F811
    person: DemoPerson,
    count_round_trips: Callable[[], Any],
    processes: Callable[[Any], Any],
) -> None:
    from backend.identity.principal_cache import PrincipalCache
    from backend.identity.service import create_session, end_session

    sid = await create_session(person.user_id)
    app_client.cookies.set("sid", sid)
    here, there = PrincipalCache(), PrincipalCache()
    with processes(there):
        await _steady(app_client)
        with count_round_trips() as counts:
            await _post(app_client, TIP)
        assert counts.sql == []
        assert len(there) == 1
    with processes(here):
        await end_session(sid)
    with processes(there):
        gone = await app_client.post("/graphql", json={"query": TIP})
        assert _code(gone) == "UNAUTHENTICATED"


async def test_an_entry_older_than_trust_s_is_checked_again(
    app_client: httpx.AsyncClient,  # noqa: F811
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    count_round_trips: Callable[[], Any],
    processes: Callable[[Any], Any],
) -> None:
    from backend.identity.principal_cache import TRUST_S, PrincipalCache

    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    clock = ManualClock()
    with processes(PrincipalCache(clock=clock)):
        await _steady(app_client, **options)
        clock.now += TRUST_S  # the edge: still trusted
        with count_round_trips() as counts:
            await _post(app_client, TIP, **options)
        assert counts.sql == []
        clock.now += 1.0  # past it: the database is asked once, then the entry is fresh again
        with count_round_trips() as counts:
            await _post(app_client, TIP, **options)
        assert [q for q in counts.sql if "token_hash" in q] != [], counts.sql
        with count_round_trips() as counts:
            await _post(app_client, TIP, **options)
        assert counts.sql == []


async def test_with_redis_away_the_database_answers(
    app_client: httpx.AsyncClient,  # noqa: F811
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    count_round_trips: Callable[[], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redis.asyncio import Redis

    from backend import ratelimit, redis
    from backend.identity.principal_cache import CACHE
    from tests.support.fixtures import free_port

    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    await _steady(app_client, **options)
    assert (await _post(app_client, ME, **options))["data"]["me"]["id"] == person.user_id
    before = len(CACHE)
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", decode_responses=True)
    monkeypatch.setitem(redis._clients, redis.redis_url(), dead)
    monkeypatch.setattr(ratelimit, "_limiter", ratelimit._Limiter())
    try:
        with count_round_trips() as counts:
            body = await _post(app_client, ME, **options)
    finally:
        await dead.aclose()
    assert body["data"]["me"]["id"] == person.user_id
    assert [q for q in counts.sql if "token_hash" in q] != [], counts.sql  # not trusted blind
    assert len(CACHE) <= before
