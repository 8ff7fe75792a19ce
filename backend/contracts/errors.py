"""A refused request: a code, one sentence for people, the field it is about; nothing stored."""

from __future__ import annotations


class Refused(Exception):
    """Bad input or a refused change; carries a GraphQL `UserError`'s fields."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
