"""Rate limits over real HTTP on a server with low limits: sign-in links, refused tokens,
GraphQL per address and per credential, webhooks, tokens and sessions per account; 429 with
Retry-After, RATE_LIMITED for API callers and a page for people. Redis down: let through.

Each test speaks from its own client address (X-Forwarded-For, trusted from 127.0.0.1), so
the per-address counters of one test never reach another's.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.security.support import codes, post_graphql, session_for, sign_in_path
from tests.support.fixtures import LiveServer, free_port, make_person, start_server, stop_server

LIMITS = {
    "OO_RATE_SIGN_IN": "12/minute",
    "OO_RATE_SIGN_IN_FAILURES": "5/minute",
    "OO_RATE_AUTH_FAILURES": "3/minute",
    "OO_RATE_GRAPHQL": "8/minute",
    "OO_RATE_WEBHOOKS": "4/minute",
    "OO_RATE_TOKENS": "2/hour",
    "OO_RATE_SESSIONS": "2/hour",
}
ME = "{ me { id } }"
CREATE_TOKEN = 'mutation { createApiToken(name: "t") { secret errors { code message } } }'


@pytest.fixture(scope="module")
def limited(var_dir: Path) -> Iterator[LiveServer]:
    server = start_server(var_dir, with_worker=False, extra_env=LIMITS)
    yield server
    stop_server(server)


def address() -> str:
    """A client address of this test's own."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_guessed_sign_in_links_are_refused_past_the_limit(limited: LiveServer) -> None:
    ip = address()
    with limited.client(headers={"X-Forwarded-For": ip, "accept": "text/html"}) as client:
        answers = [client.get(f"/auth/link/guess-{i}") for i in range(8)]
    assert [a.status_code for a in answers] == [400] * 5 + [429] * 3
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["content-type"].startswith("text/html")  # a page for people
    assert "Slow down" in refused.text
    # Another address is not affected.
    with limited.client(headers={"X-Forwarded-For": address()}) as client:
        assert client.get("/auth/link/guess-x").status_code == 400


def test_failed_oauth_callbacks_count_as_refused_sign_ins(limited: LiveServer) -> None:
    with limited.client(headers={"X-Forwarded-For": address()}) as client:
        answers = [client.get("/auth/google/callback?code=x&state=y").status_code for _ in range(7)]
    assert answers[5:] == [429, 429]
    assert 429 not in answers[:5]


async def test_good_sign_ins_are_limited_only_by_the_overall_rate(limited: LiveServer) -> None:
    """Links that work spend no failure budget: more than 5 sign-ins from one address (an
    office behind one NAT) pass, up to the overall 12/minute."""
    ip = address()
    statuses = []
    for _ in range(13):
        person = await make_person(tasks=False)
        path = await sign_in_path(person.user_id)
        with limited.client(follow_redirects=False, headers={"X-Forwarded-For": ip}) as client:
            statuses.append(client.get(path).status_code)
    assert statuses == [303] * 12 + [429]


async def test_refused_tokens_lock_the_address_out(limited: LiveServer, token_for: object) -> None:
    ip = address()
    answers = [post_graphql(limited, ME, token="guessed", address=ip) for _ in range(5)]
    assert [codes(a.json()) for a in answers[:3]] == [["UNAUTHENTICATED"]] * 3
    assert [a.status_code for a in answers[3:]] == [429, 429]
    assert codes(answers[3].json()) == ["RATE_LIMITED"]
    assert int(answers[3].headers["retry-after"]) >= 1
    # Even a good token is refused from there until the window passes; elsewhere it works.
    person = await make_person(tasks=False)
    token = await token_for(person)  # type: ignore[operator]
    assert post_graphql(limited, ME, token=token, address=ip).status_code == 429
    fine = post_graphql(limited, ME, token=token, address=address())
    assert fine.json()["data"]["me"]["id"] == person.user_id


async def test_a_locked_out_address_cannot_open_a_websocket_either(limited: LiveServer) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    ip = address()
    for _ in range(4):
        post_graphql(limited, ME, token="guessed", address=ip)
    url = limited.url.replace("http://", "ws://") + "/graphql"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"X-Forwarded-For": ip},
            open_timeout=60,
        ):
            pass
    assert refused.value.response.status_code == 403
    # Another address still gets its WebSocket.
    async with connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"X-Forwarded-For": address()},
        open_timeout=60,
    ) as ws:
        assert ws.subprotocol == "graphql-transport-ws"


async def test_graphql_is_limited_per_address(limited: LiveServer) -> None:
    ip = address()
    answers = [post_graphql(limited, "{ __typename }", address=ip) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 8 + [429] * 2
    assert answers[-1].json() == {
        "data": None,
        "errors": [
            {
                "message": answers[-1].json()["errors"][0]["message"],
                "extensions": {"code": "RATE_LIMITED"},
            }
        ],
    }


def test_graphql_requests_that_never_run_are_counted_and_refused_too(
    limited: LiveServer,
) -> None:
    """The count is spent with the operation's cost (one round trip); a body that never
    becomes an operation (not JSON) is counted when its answer starts, and refused past it."""
    with limited.client(headers={"X-Forwarded-For": address()}) as client:
        answers = [
            client.post(
                "/graphql", content=b"{not json", headers={"content-type": "application/json"}
            )
            for _ in range(10)
        ]
    assert [a.status_code for a in answers] == [400] * 8 + [429] * 2
    assert codes(answers[-1].json()) == ["RATE_LIMITED"]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60


async def test_graphql_is_limited_per_credential(limited: LiveServer, token_for: object) -> None:
    person = await make_person(tasks=False)
    token = await token_for(person)  # type: ignore[operator]
    first = [post_graphql(limited, ME, token=token, address=address()) for _ in range(5)]
    second = [post_graphql(limited, ME, token=token, address=address()) for _ in range(5)]
    statuses = [a.status_code for a in first + second]
    assert statuses == [200] * 8 + [429] * 2  # one token's share, whichever address spends it


async def test_token_creation_is_limited_per_account(limited: LiveServer) -> None:
    person = await make_person(tasks=False)
    sid = await session_for(person.user_id)
    csrf = "c" * 64
    cookies = {"sid": sid, "csrftoken": csrf}
    answers = []
    for _ in range(3):
        with limited.client(cookies=cookies, headers={"x-csrftoken": csrf}) as client:
            answers.append(
                client.post(
                    "/graphql",
                    json={"query": CREATE_TOKEN},
                    headers={"X-Forwarded-For": address()},
                ).json()
            )
    payloads = [a["data"]["createApiToken"] for a in answers]
    assert [p["errors"] for p in payloads[:2]] == [[], []]
    assert payloads[2]["secret"] is None
    assert [e["code"] for e in payloads[2]["errors"]] == ["RATE_LIMITED"]


async def test_sessions_are_limited_per_account(limited: LiveServer) -> None:
    person = await make_person(tasks=False)
    statuses = []
    for _ in range(3):
        path = await sign_in_path(person.user_id)
        with limited.client(
            follow_redirects=False, headers={"X-Forwarded-For": address(), "accept": "text/html"}
        ) as client:
            statuses.append(client.get(path).status_code)
    assert statuses == [303, 303, 429]


def test_webhooks_are_limited_per_address(limited: LiveServer) -> None:
    with limited.client(headers={"X-Forwarded-For": address()}) as client:
        answers = [client.post(f"/webhooks/in/nope-{i}", content=b"{}") for i in range(6)]
    assert [a.status_code for a in answers] == [401] * 4 + [429] * 2
    assert codes(answers[-1].json()) == ["RATE_LIMITED"]


def test_normal_pages_are_not_limited(limited: LiveServer) -> None:
    with limited.client(headers={"X-Forwarded-For": address()}) as client:
        assert {client.get("/signin").status_code for _ in range(12)} == {200}


async def test_redis_down_lets_requests_through_and_logs_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from redis.asyncio import Redis

    from backend import ratelimit

    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", decode_responses=True)
    monkeypatch.setattr(ratelimit, "get_redis", lambda: dead)
    monkeypatch.setattr(ratelimit, "_limiter", ratelimit._Limiter())
    caplog.set_level(logging.WARNING, logger="oo.ratelimit")
    try:
        results = [await ratelimit.hit("probe", "1/minute", "k") for _ in range(3)]
        assert await ratelimit.exhausted("probe", "1/minute", "k") is None
    finally:
        await dead.aclose()
    assert results == [None, None, None]
    warnings = [r for r in caplog.records if r.name == "oo.ratelimit"]
    assert len(warnings) == 1
    assert "Redis did not answer" in warnings[0].getMessage()


async def test_limits_count_in_redis_and_can_be_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend import ratelimit
    from backend.settings import get_settings

    key = uuid.uuid4().hex
    assert await ratelimit.hit("probe", "2/minute", key) is None
    assert await ratelimit.hit("probe", "2/minute", key) is None
    refusal = await ratelimit.hit("probe", "2/minute", key)
    assert refusal is not None
    assert 1 <= refusal.retry_after_s <= 60
    off = dataclasses.replace(get_settings(), rate_limits=False)
    monkeypatch.setattr(ratelimit, "get_settings", lambda: off)
    assert await ratelimit.hit("probe", "2/minute", key) is None
