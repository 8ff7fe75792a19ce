"""Every GraphQL error leaves with a stable `code` extension; unexpected ones are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from backend.unavailable import RETRY_AFTER_S, UNAVAILABLE_MESSAGE, dependency_away

log = logging.getLogger("oo.graphql")


def _code_for(error: GraphQLError) -> str | None:
    if error.extensions and "code" in error.extensions:
        return None  # already coded by us
    if error.original_error is None:
        if "Document contains more than" in error.message:
            return "GRAPHQL_VALIDATION_FAILED"  # the token limit, enforced by the parser
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    original = error.original_error
    if isinstance(original, GraphQLError) and original.extensions and "code" in original.extensions:
        return str(original.extensions["code"])
    if isinstance(original, GraphQLError) and error.path is None:
        # graphql-core's own input errors (a variable of the wrong type, an unknown enum
        # value, an Int beyond 32 bits): bad input, not a failure of ours.
        return "GRAPHQL_VALIDATION_FAILED"
    if dependency_away(original):
        return "SERVICE_UNAVAILABLE"
    return "INTERNAL_SERVER_ERROR"


class ErrorCodes(MaskErrors):
    """Adds `extensions.code` to each error; internal errors become "Unexpected error."."""

    def on_operation(self) -> Iterator[None]:
        """Also code errors raised through the operation, not returned in its result.

        A syntax error or the token limit, raised by the parse hook (OperationRules), leaves
        the operation as an exception, so MaskErrors never sees it in a result.
        """
        try:
            yield from super().on_operation()
        except GraphQLError as error:
            code = _code_for(error)
            if code is not None and code != "INTERNAL_SERVER_ERROR":
                error.extensions = {**(error.extensions or {}), "code": code}
            raise

    def _process_result(self, result: object) -> None:
        """MaskErrors' step without its runtime-checked Protocol: an `isinstance` against a
        Protocol walks the protocol's attributes on every call, for every operation."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            code = _code_for(error)
            if code is None:
                processed.append(error)
            elif code == "INTERNAL_SERVER_ERROR":
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
                masked = self.anonymise_error(error)
                masked.extensions = {"code": code}
                processed.append(masked)
            elif code == "SERVICE_UNAVAILABLE":
                log.warning("dependency away in %s: %s", error.path, error.original_error)
                away = GraphQLError(
                    UNAVAILABLE_MESSAGE,
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": code, "retryAfter": RETRY_AFTER_S},
                )
                processed.append(away)
            else:
                error.extensions = {**(error.extensions or {}), "code": code}
                processed.append(error)
        return processed
