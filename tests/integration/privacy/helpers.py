"""Helpers of the privacy tests: a stand-in revoke endpoint, a person with data everywhere, and
brute-force scanners of the whole database and Redis (independent of the code under test)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis as sync_redis

from tests.support.fixtures import DemoPerson, make_person

ACCESS = "ya29.stand-in-access-token-SECRET"
REFRESH = "1//stand-in-refresh-token-SECRET"


@dataclass
class RevokeStandIn:
    """A Google-shaped revoke endpoint on 127.0.0.1 that records what it was sent."""

    url: str
    received: list[str] = field(default_factory=list)


@dataclass
class Footprint:
    """A person with data in every table and Redis structure we know of."""

    person: DemoPerson
    sid: str
    api_token: str
    tip_ids: list[str]
    needles: set[str]


@contextmanager
def revoke_stand_in() -> Iterator[RevokeStandIn]:
    """Serve the stand-in for the duration of the `with` block."""
    stand_in = RevokeStandIn(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            stand_in.received.extend(form.get("token", []))
            body = b"{}"
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}/revoke"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


async def footprint() -> Footprint:
    """Create a person and leave traces of them everywhere oO stores things."""
    from backend.audit import record as audit
    from backend.events.bus import publish
    from backend.events.contracts import ItemCompleted
    from backend.identity.service import (
        create_api_token,
        create_session,
        create_sign_in_link,
        principal_for_user,
    )
    from backend.identity.tables import UserIdentity
    from backend.identity.vault import store_credential
    from backend.integrations.service import open_items
    from backend.privacy.service import record_sign_in_consent
    from backend.queue import get_queue
    from backend.recommender.reward import Action
    from backend.recommender.service import current_tip, react
    from backend.redis import get_redis, key

    person = await make_person()
    uid = person.user_id
    principal = await principal_for_user(uid, "session")
    assert principal is not None
    first = await current_tip(principal)  # a served tip + a tip.served event + task cache
    assert first is not None
    # Snooze, not done: "done" enqueues a job a live worker could run after the purge.
    await react(principal, first.id, Action.SNOOZE, 5_000)  # feedback, snooze, policy state
    second = await current_tip(principal)
    assert second is not None
    await open_items(uid)
    sid = await create_session(uid, user_agent="privacy-test")
    await create_session(uid, user_agent="privacy-test-2")
    api_token = (await create_api_token(uid, "privacy-test"))[1]
    await create_sign_in_link(uid)
    await record_sign_in_consent(uid)
    await store_credential(
        uid, "google", "google-sub-1", ACCESS, REFRESH, datetime.now(UTC) + timedelta(hours=1)
    )
    await UserIdentity(
        user=uid, provider="google", subject="google-sub-1", email=person.email
    ).save()
    await audit(uid, "privacy.test", "nothing")
    await publish(uid, ItemCompleted(item_ref="demo:x", source="demo", ok=True))
    redis = get_redis()
    # Structures another domain might keep: a shared set, a hash field and a list naming them.
    await redis.sadd(key("test-active-users"), uid, "00000000-0000-4000-8000-000000000000")  # type: ignore[misc]
    await redis.hset(key("test-user-zones"), uid, "Europe/Paris")  # type: ignore[misc]
    await redis.rpush(key("test-recent"), json.dumps({"user_id": uid}), "someone-else")  # type: ignore[misc]
    # A queued job naming them (deferred an hour, so no worker runs it meanwhile).
    queue = await get_queue()
    await queue.enqueue_job(
        "complete_item", uid, "demo:x", second.id, _job_id=f"complete:{second.id}", _defer_by=3600
    )
    await queue.enqueue_job("complete_item", uid, "demo:y", "t", _defer_by=3600)
    needles = {uid, person.email, first.id, second.id, ACCESS, REFRESH}
    return Footprint(person, sid, api_token, [first.id, second.id], needles)


async def scan_database(needles: set[str], deleted_user: str | None = None) -> list[str]:
    """Every cell of every table of the live database that contains one of `needles`.

    The soft-deleted user row may keep its id (and only that).
    """
    from backend.db import engine
    from backend.privacy.registry import database_columns

    hits: list[str] = []
    for table in await database_columns():
        # Table names come from the database's own catalogue, not from input.
        rows = await engine().run_ddl(f'SELECT * FROM "{table}"')  # noqa: S608
        for row in rows:
            for column, value in row.items():
                text = str(value)
                if table == "app_user" and column == "id" and text == deleted_user:
                    continue
                hits.extend(f"{table}.{column}: {n}" for n in needles if n and n in text)
    return hits


def scan_redis(url: str, prefix: str, needles: set[str]) -> list[str]:
    """Every key, member, field or stream entry (ours, and arq's) mentioning one of `needles`."""
    client = sync_redis.Redis.from_url(url)
    hits: list[str] = []
    try:
        names = [*client.scan_iter(match=f"{prefix}*"), *client.scan_iter(match="arq:*")]
        for name in names:
            kind = client.type(name).decode()
            if kind == "string":
                dump = [client.get(name) or b""]
            elif kind == "set":
                dump = list(client.smembers(name))
            elif kind == "zset":
                dump = list(client.zrange(name, 0, -1))
            elif kind == "hash":
                dump = [b"%s=%s" % kv for kv in client.hgetall(name).items()]
            elif kind == "list":
                dump = list(client.lrange(name, 0, -1))
            elif kind == "stream":
                dump = [
                    json.dumps({k.decode(): v.decode() for k, v in f.items()}).encode()
                    for _, f in client.xrange(name)
                ]
            else:
                dump = []
            for blob in [name, *dump]:
                hits.extend(
                    f"{name.decode()} ({kind}): {n}" for n in needles if n and n.encode() in blob
                )
    finally:
        client.close()
    return hits
