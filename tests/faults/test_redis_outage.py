"""Redis goes away under `oo serve` + `oo worker` (their own Redis, started here): a reaction
sent during the outage is stored and acknowledged (never reported failed), and once Redis is
back the worker — still running — sends its event and its "done" close from the outbox."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from backend.redis import key
from tests.conftest import PG_ADMIN_DSN, TEST_DB
from tests.support.deployment import demo_token_and_link, own_database
from tests.support.fixtures import LiveServer, start_server, stop_server
from tests.support.own_redis import OwnRedis

pytestmark = pytest.mark.skipif(TEST_DB != "postgres", reason="fault tests run on PostgreSQL")

TIP = "{ tip { id kind } }"
FEEDBACK = """mutation($id: ID!, $rid: String!) {
  feedback(tipId: $id, action: DONE, dwellMs: 60000, clientRequestId: $rid) {
    reward tip { id } nextTip { id } errors { code } } }"""
DEADLINE_S = 45.0


@pytest.fixture
def own_redis(var_dir: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(var_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_db() -> Iterator[str]:
    # Its own database too: the session's other worker (on the shared Redis) would otherwise
    # drain this deployment's outbox into the wrong Redis.
    with own_database(PG_ADMIN_DSN) as url:
        yield url


@pytest.fixture
def server_on_own_redis(var_dir: Path, own_redis: OwnRedis, own_db: str) -> Iterator[LiveServer]:
    env = {"REDIS_URL": own_redis.url, "DATABASE_URL": own_db}
    server = start_server(var_dir, extra_env=env, worker_env=env)
    yield server
    stop_server(server)


def _post(client: httpx.Client, query: str, **variables: object) -> dict[str, object]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_reaction_during_an_outage_is_stored_and_its_effects_follow(
    server_on_own_redis: LiveServer, own_redis: OwnRedis, own_db: str
) -> None:
    token, _link = demo_token_and_link(own_db)
    headers = {"Authorization": f"Bearer {token}"}
    with server_on_own_redis.client(headers=headers) as client:
        tip = _post(client, TIP)["data"]["tip"]  # type: ignore[index]
        assert tip is not None

        own_redis.stop()  # the outage
        request_id = uuid.uuid4().hex
        answer = _post(client, FEEDBACK, id=tip["id"], rid=request_id)
        assert "errors" not in answer, answer
        feedback = answer["data"]["feedback"]  # type: ignore[index]
        assert feedback["errors"] == []
        assert feedback["tip"]["id"] == tip["id"]
        assert feedback["reward"] is not None
        # The client retries (it never saw an answer, say): the same answer, not ALREADY_REACTED.
        again = _post(client, FEEDBACK, id=tip["id"], rid=request_id)
        assert again["data"]["feedback"]["reward"] == feedback["reward"]  # type: ignore[index]
        # Tips are still served, from the database, through the outage.
        served = [_post(client, TIP) for _ in range(20)]
        answered = [b for b in served if "errors" not in b and b["data"]["tip"]]  # type: ignore[index]
        assert len(answered) == len(served), served[:3]
        during = answered[0]["data"]["tip"]["id"]  # type: ignore[index]
        assert during != tip["id"], "the next tip, not the answered one"

        own_redis.start()  # back, empty: nothing of the outage's effects was there
        back = redis.Redis(port=own_redis.port, decode_responses=True)
        deadline = time.monotonic() + DEADLINE_S
        sent: list[str] = []
        while time.monotonic() < deadline and not sent:
            rows = back.xrange(key("events"))
            sent = [
                fields["payload"]
                for _id, fields in rows
                if fields.get("subject") == "signals.tip.feedback"
                and tip["id"] in fields.get("payload", "")
            ]
            if not sent:
                time.sleep(0.25)
        assert len(sent) == 1, "the worker, still running, sent the stored reaction's event"
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:  # the serve during the outage reaches the bus too
            served_events = [
                f
                for _id, f in back.xrange(key("events"))
                if f.get("subject") == "signals.tip.served" and during in f.get("payload", "")
            ]
            if served_events:
                break
            time.sleep(0.25)
        assert len(served_events) == 1
        if tip["kind"] == "task":
            deadline = time.monotonic() + DEADLINE_S
            closed = False
            while time.monotonic() < deadline and not closed:
                closed = back.exists(f"arq:result:complete:{tip['id']}") == 1
                if not closed:
                    time.sleep(0.25)
            assert closed, "the done close ran once Redis was back"
        worker = server_on_own_redis.worker
        assert worker is not None
        assert worker.poll() is None, "the worker outlived the outage"
