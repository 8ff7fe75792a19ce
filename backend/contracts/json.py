"""Reading JSON columns back from the database."""

from __future__ import annotations

from typing import Any


def json_object(value: object) -> dict[str, Any]:
    """A JSON column read back is a dict, or {} when it is not one — decoded once at the edge."""
    return value if isinstance(value, dict) else {}
