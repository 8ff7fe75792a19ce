"""The fresh loop at the floor (issue 19, ADR 0041), counted in process: one `feedback` with its
next pick, statement by statement and round trip by round trip, on each database — so that
none creeps back. docs/performance.md ("The fresh loop, statement by statement") lists them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from backend.db import engine
from tests.integration.test_hot_path import TIP, app_client  # noqa: F401
from tests.support.counting import Counts
from tests.support.fixtures import DemoPerson

FEEDBACK = (
    "mutation($id: ID!) { feedback(tipId: $id, action: SNOOZE, dwellMs: 1200)"
    " { reward nextTip { id content } errors { code } } }"
)

# Where the next pick reads concurrently, the order varies: statements are compared as a
# multiset of "VERB table" names.
REACTION = {
    "UPDATE served_tip": 1,  # the claim: answered, reward, RETURNING the tip (+ the lock)
    "SELECT policy_state": 1,  # what the policies knew, read under the learning lock
    "UPDATE tip_history": 1,  # the profile's copy of the tip (its event's handler)
    "SELECT push_decision": 1,  # the push decider's outcome, read before any lock (its handler)
    "DELETE recommender_outbox": 1,  # the event sent: its outbox row goes
}
PICK = {
    "SELECT snooze": 1,  # hidden items
    "SELECT served_tip": 1,  # the recent log (and whether a tip was served meanwhile)
    "SELECT integration": 1,  # connected sources
    "SELECT tip_candidate": 1,  # written tips
    "INSERT tip_history": 1,  # the profile's copy of the new tip (its event's handler)
}
WRITES = {
    # PostgreSQL: the reaction's writes are one statement; the decision one more (its
    # shadows score it in the worker, ADR 0046).
    "postgres": {"WITH feedback": 1, "INSERT served_tip": 1},
    # SQLite: in process, one statement each (inside the same transactions).
    "sqlite": {
        "INSERT feedback": 1,
        "INSERT snooze": 1,
        "INSERT policy_state": 1,
        "INSERT recommender_outbox": 1,
        "INSERT served_tip": 1,
    },
}
# Transactions begun: the reaction's (the decision is one statement on both). The push decider reads before it takes a write lock, and finds nothing to record.
TRANSACTIONS = {"postgres": 1, "sqlite": 1}
ROUND_TRIPS = {
    "EVALSHA": 3,  # the request's limits; the serve lock with the pick's reads; its release
    "DEL": 1,  # the answered tip leaves the cache
    "SET": 1,  # the push decider's "active now" (once per request, however many events)
    "PIPELINE XADD HSET": 2,  # the two events on the bus
}


def _name(sql: str) -> str:
    """'VERB table' of a statement (WITH: the table of its first part)."""
    verb = sql.split(None, 1)[0].upper()
    if verb == "WITH":
        table = re.search(r'INSERT INTO "(\w+)"', sql)
        return f"WITH {table.group(1) if table else '?'}"
    table = re.search(r'(?:FROM|INTO|UPDATE) "?(\w+)"?', sql)
    return f"{verb} {table.group(1) if table else '?'}"


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **options: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, **options
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


@pytest.fixture
def registry_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Who serves is read once per SERVING_TTL_S: long enough here that no read falls inside
    the counted request on a slow machine."""
    from backend.recommender import registry_cache

    monkeypatch.setattr(registry_cache, "SERVING_TTL_S", 3600.0)


async def test_a_reaction_with_its_next_pick_is_counted_statement_by_statement(
    app_client: httpx.AsyncClient,  # noqa: F811
    person: DemoPerson,
    token_for: Callable[[DemoPerson], Any],
    count_round_trips: Callable[[], Any],
    registry_kept: None,
) -> None:
    options = {"headers": {"authorization": f"Bearer {await token_for(person)}"}}
    tip = (await _post(app_client, TIP, **options))["data"]["tip"]["id"]
    first = await _post(app_client, FEEDBACK, {"id": tip}, **options)
    tip = first["data"]["feedback"]["nextTip"]["id"]
    counts: Counts
    with count_round_trips() as counts:
        body = await _post(app_client, FEEDBACK, {"id": tip}, **options)
    payload = body["data"]["feedback"]
    assert payload["errors"] == []
    assert payload["reward"] == pytest.approx(0.1)
    next_id = payload["nextTip"]["id"]
    assert next_id != tip

    expected = Counter({**REACTION, **PICK, **WRITES[engine().engine_type]})
    assert Counter(_name(q) for q in counts.sql) == expected, counts.sql
    assert Counter(counts.redis) == Counter(ROUND_TRIPS), counts.redis
    assert len(counts.transactions) == TRANSACTIONS[engine().engine_type], counts.transactions

    # The pick cached what it served: the next `tip` is one round trip and no query (the
    # caller is vouched for by the generation read in that round trip, ADR 0043).
    with count_round_trips() as counts:
        again = await _post(app_client, TIP, **options)
    assert again["data"]["tip"]["id"] == next_id
    assert len(counts.redis) == 1, counts.redis
    assert counts.sql == [], counts.sql
