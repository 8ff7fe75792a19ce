"""Fuzzing /graphql with schemathesis, as a person and as an admin: seeded, bounded in time.

Every query and mutation of schema.graphql gets a few generated documents (valid shapes,
odd values). A fault is an HTTP 5xx or an INTERNAL_SERVER_ERROR code; refusals (FORBIDDEN
for a person on admin fields, NOT_FOUND, validation errors, typed UserErrors) are answers.
The admin fuzzes queries only: admin mutations act on the whole deployment (policies,
simulations) and would reach the other tests of this run through the shared database.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pytest

from tests.support.fixtures import ROOT, LiveServer, make_person

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

SEED = 20261206
EXAMPLES_PER_OPERATION = 4
BUDGET_S = 25.0  # per role: both together stay under a minute
# Run last: they end the person's account or data, after which calls are UNAUTHENTICATED.
LAST = ("Mutation.deleteAccount", "Mutation.deleteMyData")


def _register_json_scalar() -> None:
    """Our `JSON` scalar: any JSON value, as GraphQL literals (schemathesis has no default)."""
    import graphql
    from hypothesis import strategies as st
    from schemathesis.graphql import nodes

    def as_object(fields: dict[str, graphql.ValueNode]) -> graphql.ValueNode:
        return nodes.Object(
            [
                graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                for k, v in fields.items()
            ]
        )

    leaves = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers(-(2**31), 2**31 - 1).map(nodes.Int),
        st.text(max_size=20).map(nodes.String),
    )
    values = st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(nodes.List),
            st.dictionaries(
                st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=3
            ).map(as_object),
        ),
        max_leaves=8,
    )
    schemathesis.graphql.scalar("JSON", values)


def operations(queries_only: bool) -> list[Any]:
    _register_json_scalar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
        found = [result.ok() for result in schema.get_all_operations()]
    if queries_only:
        found = [op for op in found if op.label.startswith("Query.")]
    return sorted(found, key=lambda op: (op.label in LAST, op.label))


def faults_of(response: Any) -> list[str]:
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code} without JSON"]
    return [
        f"INTERNAL_SERVER_ERROR: {error.get('message')}"
        for error in body.get("errors") or []
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]


def fuzz_operation(
    operation: Any, url: str, headers: dict[str, str], deadline: float, faults: list[str]
) -> int:
    """Send the operation's generated documents (until the deadline); returns how many."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    sent = 0

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case: Any) -> None:
        nonlocal sent
        if time.monotonic() > deadline:
            return
        response = case.call(base_url=url, headers=headers, timeout=60)
        sent += 1
        faults.extend(f"{operation.label}: {f}\n{case.body}" for f in faults_of(response))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        send()
    return sent


def fuzz(server: LiveServer, token: str, queries_only: bool) -> tuple[int, list[str]]:
    """(documents sent, faults found), stopping at the time budget."""
    deadline = time.monotonic() + BUDGET_S
    headers = {"Authorization": f"Bearer {token}"}
    faults: list[str] = []
    sent = 0
    for operation in operations(queries_only):
        if time.monotonic() > deadline:
            break
        sent += fuzz_operation(operation, f"{server.url}/graphql", headers, deadline, faults)
    return sent, faults


async def test_fuzz_as_a_person(live_server: LiveServer, token_for: object) -> None:
    person = await make_person()
    token = await token_for(person)  # type: ignore[operator]
    sent, faults = fuzz(live_server, token, queries_only=False)
    assert sent >= 30, "the fuzzer reached most operations within its budget"
    assert faults == []


async def test_fuzz_as_an_admin(live_server: LiveServer, token_for: object) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = await token_for(admin)  # type: ignore[operator]
    sent, faults = fuzz(live_server, token, queries_only=True)
    assert sent >= 20
    assert faults == []
