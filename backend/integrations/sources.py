"""The SignalSource protocol and the registry of sources by name."""

from __future__ import annotations

from typing import Protocol

from backend.contracts.candidate import Candidate


class SignalSource(Protocol):
    """Where a person's items come from. Adding a source is one module registered by name."""

    name: str

    async def list_items(self, user_id: str) -> list[Candidate]:
        """The person's open items, normalised (empty when not connected)."""
        ...

    async def complete(self, user_id: str, item_ref: str) -> bool:
        """Close an item at the source. Idempotent: closing a closed item is a no-op (False)."""
        ...


_SOURCES: dict[str, SignalSource] = {}


def register_source(source: SignalSource) -> None:
    """Make a source available under its name."""
    _SOURCES[source.name] = source


def get_source(name: str) -> SignalSource:
    """A registered source."""
    return _SOURCES[name]


def all_sources() -> list[SignalSource]:
    """Every registered source."""
    return list(_SOURCES.values())


def source_name(item_ref: str) -> str:
    """The source part of an item reference (`demo:…` → `demo`)."""
    return item_ref.split(":", 1)[0]
