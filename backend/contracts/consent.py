"""Consents another floor needs to read: which people granted a key.

The profile domain stores consents (backend/profile/store.py) and registers a reader here when
the composer installs it; the recommender, which imports no domain, asks through this port. With
no reader registered nobody counts as consenting, so an opt-in is never assumed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

LEARNING_EVERYONE = "learning.everyone"
"""Opt-in: this person's reactions may train the model pooled over everyone (off until granted)."""

GrantedReader = Callable[[str], Awaitable[frozenset[str]]]
"""consent key → ids of the people who have granted it now."""


class _Registry:
    reader: GrantedReader | None = None


def register_granted_reader(reader: GrantedReader) -> None:
    """Offer the reader of granted consents (registering again replaces it)."""
    _Registry.reader = reader


async def people_granting(key: str) -> frozenset[str]:
    """Ids of the people who granted `key`; nobody when no reader is registered."""
    if _Registry.reader is None:
        return frozenset()
    return await _Registry.reader(key)
