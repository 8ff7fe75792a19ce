"""Data categories a person sees on the data page, and which tables fall into each.

A table is claimed by its `app.tablename` first, then by its app; whatever no category claims is
shown under "Other" with its table name, so nothing stored is ever hidden from the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.privacy.registry import Owned


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


CATEGORIES: tuple[Category, ...] = (
    Category(
        key="tips",
        label="Tip history",
        description="Each tip oO showed you, with the features and the policy that picked it.",
        deletable=True,
        tables=("recommender.served_tip",),
        apps=("recommender",),
    ),
    Category(
        key="feedback",
        label="Feedback",
        description="Your done, snooze and dismiss reactions, and the items they hide for a while.",
        deletable=True,
        tables=("recommender.feedback", "recommender.snooze"),
    ),
    Category(
        key="profile",
        label="Computed profile",
        description=(
            "What oO worked out: inferred preferences, agent notes, features, policy state. "
            "Preferences you set yourself stay when you delete it."
        ),
        deletable=True,
        tables=(
            "recommender.policy_state",
            "profile.preference",
            "profile.agent_output",
            "profile.profile_feature",
        ),
        apps=("profile", "agents", "llm"),  # tip drafts are written from the notes
        keep=(("profile.preference", "source", "user"),),
    ),
    Category(
        key="integrations",
        label="Integrations",
        description="Connected apps, their tokens (encrypted, revoked on delete) and their tasks.",
        deletable=True,
        tables=("identity.provider_credential",),
        apps=("integrations",),
    ),
    Category(
        key="account",
        label="Account and settings",
        description="Who you are, how you sign in, API tokens, consents and your contexts.",
        deletable=False,
        tables=("profile.profile_consent", "profile.profile_context"),
        apps=("identity", "privacy"),
    ),
)
OTHER = Category(
    key="other", label="Other", description="Anything else stored about you.", deletable=False
)
DELETABLE = tuple(c.key for c in CATEGORIES if c.deletable)


def category_of(owned: Owned) -> Category:
    """The category a table's rows belong to."""
    for category in CATEGORIES:
        if owned.name in category.tables:
            return category
    for category in CATEGORIES:
        if owned.app in category.apps:
            return category
    return OTHER


def get_category(key: str) -> Category | None:
    """A category by key."""
    return next((c for c in (*CATEGORIES, OTHER) if c.key == key), None)
