"""Who may read the schema, and how deep an introspection query may go (ADR 0018).

Strawberry's depth limiter skips every field whose name starts with `__`, so a selection under
`__schema` or `__type` had no depth limit at all (a 45-level `ofType` chain was answered). The
rule below measures those subtrees with their own, higher limit: the standard introspection
query (GraphiQL's) is 15 levels deep, ordinary queries are capped at OO_GRAPHQL_MAX_DEPTH.
"""

from __future__ import annotations

import functools
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)
from strawberry.types import ExecutionContext

from backend.settings import get_settings

SCHEMA_FIELDS = frozenset({"__schema", "__type"})


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> int:
    """Levels of fields below (and including) this selection set; fragments are followed once."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen | {name}))
    return deepest


def _schema_fields(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> list[FieldNode]:
    """The `__schema` / `__type` fields of an operation, wherever fragments put them."""
    found: list[FieldNode] = []
    if selection_set is None:
        return found
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in SCHEMA_FIELDS:
                found.append(selection)
            else:
                found.extend(_schema_fields(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_schema_fields(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                found.extend(_schema_fields(fragment.selection_set, fragments, seen | {name}))
    return found


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def introspection_depth(document: DocumentNode) -> int:
    """The deepest `__schema` / `__type` selection of any operation (1 = the field alone)."""
    fragments = _fragments(document)
    return max(
        (
            1 + _depth(field.selection_set, fragments, frozenset())
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
            for field in _schema_fields(definition.selection_set, fragments)
        ),
        default=0,
    )


@functools.lru_cache(maxsize=256)
def reads_the_schema(document: DocumentNode) -> bool:
    """True when an operation selects `__schema` or `__type` (`__typename` is not introspection)."""
    fragments = _fragments(document)
    return any(
        _schema_fields(definition.selection_set, fragments)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )


def introspection_depth_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule refusing introspection selections deeper than `max_depth`."""

    class IntrospectionDepthRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            depth = introspection_depth(context.document)
            if depth > max_depth:
                context.report_error(
                    GraphQLError(
                        f"Introspection depth {depth} exceeds maximum introspection depth of "
                        f"{max_depth}."
                    )
                )

    return IntrospectionDepthRule


async def introspection_refusal(execution_context: ExecutionContext) -> ExecutionResult | None:
    """INTROSPECTION_DISABLED as the answer, instead of executing, where introspection is off
    (OO_GRAPHQL_INTROSPECTION) and the caller is no admin; None where it may run."""
    document = execution_context.graphql_document
    if (
        document is None
        or get_settings().graphql_introspection
        or not reads_the_schema(document)
        or await _is_admin(execution_context.context)
    ):
        return None
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                "Introspection is off on this server.",
                extensions={"code": "INTROSPECTION_DISABLED"},
            )
        ],
    )


async def _is_admin(context: Any) -> bool:
    try:
        principal = await context.resolve_principal()
    except GraphQLError:  # a refused token is no admin
        return False
    return principal is not None and bool(principal.is_admin)
