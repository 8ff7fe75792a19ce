"""Data categories: how a domain's stored data is grouped on the person's data page.

Each domain declares its categories (backend/domain.py); the composer registers them here and
the privacy domain reads them. A table is claimed by its `app.tablename` first, then by its
app; whatever no category claims is shown under "Other", so nothing stored is ever hidden.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Category:
    """A group of a person's data with one delete button (when `deletable`)."""

    key: str
    label: str
    description: str
    deletable: bool
    tables: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    # (table, column, value): rows with column == value survive deleting this category.
    keep: tuple[tuple[str, str, Any], ...] = ()
    order: int = 100
    """Position on the data page (smaller first)."""
    unit: tuple[str, str] = ("stored item", "stored items")
    """What one counted thing is called on the data page (singular, plural)."""
    count: Callable[[str], Awaitable[int]] | None = None
    """How many things a person would count here for a user id (tips shown, apps connected).

    None: every stored row. Rows a person never saw (shadow decisions, rollups, cached tasks)
    would make the number say something else than its label.
    """


class _Registry:
    categories: dict[str, Category] = {}


def register_categories(categories: tuple[Category, ...]) -> None:
    """Add (or replace, by key) data categories."""
    for category in categories:
        _Registry.categories[category.key] = category


def registered_categories() -> tuple[Category, ...]:
    """Every registered category, in page order."""
    return tuple(sorted(_Registry.categories.values(), key=lambda c: (c.order, c.key)))
