"""Per-user Redis reads a root field will make, read ahead in the request's one round trip.

A domain registers, for one of its root fields, the head of a key that ends in the caller's
user id (`register_user_read("tip", lambda: key("current-tip", ""))`): when an operation over
HTTP selects that field, the limits' script reads the key for the caller it resolves from the
session or token entry (backend/ratelimit.py, backend/request_round.py). The field's resolver
reads through backend.redis as before and finds the value there instead of sending a GET.
A domain may also register a head read for every operation with a caller (`register_caller_read`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from backend.contracts.principal import authenticator
from backend.ratelimit import Reads

_HEADS: dict[str, list[Callable[[], str]]] = {}
_CALLER_HEADS: list[Callable[[], str]] = []


def register_caller_read(head: Callable[[], str]) -> None:
    """Read `head() + <caller's user id>` ahead for every operation with a known caller
    (identity's generation of the person, which vouches for a cached principal: ADR 0043)."""
    if head not in _CALLER_HEADS:
        _CALLER_HEADS.append(head)


def register_user_read(root_field: str, head: Callable[[], str]) -> None:
    """Read `head() + <caller's user id>` ahead for operations that select `root_field`."""
    heads = _HEADS.setdefault(root_field, [])
    if head not in heads:
        heads.append(head)


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """The names of the root fields the operation selects (through fragments too)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            return _names(definition.selection_set, fragments, 0)
    return set()


def _names(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], depth: int
) -> set[str]:
    found: set[str] = set()
    if depth > 10:  # fragments that spread each other: validation refuses cycles anyway
        return found
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            found |= _names(selection.selection_set, fragments, depth + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                found |= _names(fragment.selection_set, fragments, depth + 1)
    return found


def reads_for(
    connection: Any, token: str | None, document: DocumentNode, operation_name: str | None
) -> Reads | None:
    """What the operation's round trip should read for this caller (None: no known caller)."""
    cookies = getattr(connection, "cookies", {}) or {}
    caller = authenticator().caller_key(token, cookies)
    if caller is None:
        return None
    fields = root_fields(document, operation_name)
    heads = tuple(head() for head in _CALLER_HEADS) + tuple(
        head() for name in sorted(fields & _HEADS.keys()) for head in _HEADS[name]
    )
    return Reads(caller_key=caller[0], json=caller[1], user_heads=heads)
