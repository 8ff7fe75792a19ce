"""The data categories on the data page: each domain declares its own (its `domain.py`), the
composer registers them (backend/contracts/privacy.py), and this module answers which category
a table falls into.

A table is claimed by its `app.tablename` first, then by its app; whatever no category claims is
shown under "Other" with its table name, so nothing stored is ever hidden from the dashboard.
"""

from __future__ import annotations

from backend.contracts.privacy import Category, registered_categories
from backend.privacy.registry import Owned

__all__ = ["OTHER", "Category", "all_categories", "category_of", "deletable", "get_category"]

OTHER = Category(
    key="other",
    label="Other",
    description="Anything else stored about you.",
    deletable=False,
    order=1000,
)


def all_categories() -> tuple[Category, ...]:
    """The registered categories in page order (without OTHER)."""
    return registered_categories()


def deletable() -> tuple[str, ...]:
    """Keys of the categories a person may delete on their own."""
    return tuple(c.key for c in registered_categories() if c.deletable)


def category_of(owned: Owned) -> Category:
    """The category a table's rows belong to."""
    categories = registered_categories()
    for category in categories:
        if owned.name in category.tables:
            return category
    for category in categories:
        if owned.app in category.apps:
            return category
    return OTHER


def get_category(key: str) -> Category | None:
    """A category by key."""
    return next((c for c in (*registered_categories(), OTHER) if c.key == key), None)
