"""Types shared by every domain's GraphQL."""

from __future__ import annotations

import strawberry


@strawberry.type
class UserError:
    """A typed, user-facing error of a mutation. Nothing was stored."""

    code: str
    message: str
    field: str | None = None
