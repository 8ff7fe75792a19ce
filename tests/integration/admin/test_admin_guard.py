"""Every admin field — found from the schema, so a new one cannot be forgotten — answers
FORBIDDEN to a signed-in person who is not an admin, and UNAUTHENTICATED to nobody."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]
DUMMY = {"ID": str(uuid.uuid4()), "String": "x", "Int": 1, "Float": 1.0, "Boolean": True}


def _admin_fields() -> list[tuple[str, str]]:
    """(operation, field name) of every Query and Mutation root field guarded by IsAdmin."""
    from backend.graphql.permissions import IsAdmin
    from backend.schema import Mutation, Query, schema

    found = []
    for operation, root in (("query", Query), ("mutation", Mutation)):
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if IsAdmin in field.permission_classes:
                found.append((operation, schema.config.name_converter.get_graphql_name(field)))
    return found


def _value(kind: GraphQLInputType) -> Any:
    if isinstance(kind, GraphQLNonNull):
        return _value(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [_value(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: _value(f.type)
            for name, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
    assert isinstance(kind, GraphQLScalarType)
    return DUMMY.get(kind.name, "x")


def _operation(operation: str, name: str) -> tuple[str, dict[str, Any]]:
    from backend.schema import schema

    gql_schema = schema._schema
    root = gql_schema.query_type if operation == "query" else gql_schema.mutation_type
    assert root is not None
    field = root.fields[name]
    required = {a: arg for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    passed = ", ".join(f"{a}: ${a}" for a in required)
    returned = get_named_type(field.type)
    selection = " { __typename }" if isinstance(returned, GraphQLObjectType) else ""
    text = (
        f"{operation}{f'({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''}{selection} }}"
    )
    return text, {a: _value(arg.type) for a, arg in required.items()}


async def test_every_admin_field_refuses_people_and_anonymous_callers(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    fields = _admin_fields()
    assert {"health", "adminOverview", "endSessions", "replayEvent", "rebuildProfile"} <= {
        name for _, name in fields
    }
    person = await make_person(tasks=False)
    token = await token_for(person)
    with live_server.client() as client:
        for operation, name in fields:
            query, variables = _operation(operation, name)
            for headers, code in (
                ({"Authorization": f"Bearer {token}"}, "FORBIDDEN"),
                ({}, "UNAUTHENTICATED"),
            ):
                body = client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                ).json()
                assert "errors" in body, (name, body)
                assert body["errors"][0]["extensions"]["code"] == code, (name, body)
                assert not (body.get("data") or {}).get(name), name
