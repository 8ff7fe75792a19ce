"""Types shared by every domain's GraphQL."""

from __future__ import annotations

import strawberry


@strawberry.type
class UserError:
    """A typed, user-facing error of a mutation. Nothing was stored."""

    code: str
    message: str
    field: str | None = None


MIN_REASON_CHARS = 3


def missing_reason(reason: str) -> UserError | None:
    """The error of an admin action sent without a reason (every such action needs one: it
    goes into the audit log, where the next operator reads why)."""
    if len(reason.strip()) >= MIN_REASON_CHARS:
        return None
    return UserError(
        code="REASON_REQUIRED",
        message=f"Say why (at least {MIN_REASON_CHARS} characters): it goes into the audit log.",
        field="reason",
    )
