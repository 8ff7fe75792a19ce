"""What the data page shows: per category, how many rows and when they last changed; and what
oO computed about the person (learned state, the features behind their latest tip)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Timestamp, Timestamptz
from piccolo.table import Table

from backend.identity.tables import User
from backend.privacy.categories import OTHER, Category, all_categories, category_of
from backend.privacy.export import jsonable, select_rows
from backend.privacy.registry import Owned, owner_clause, ownership_map, table_name
from backend.profile import service as profile

_MAX_FACTS = 12


@dataclass(frozen=True)
class TableCount:
    """One table's share of a category."""

    name: str
    rows: int
    last_updated: datetime | None


@dataclass(frozen=True)
class CategoryView:
    """A category as the data page shows it."""

    category: Category
    rows: int
    last_updated: datetime | None
    tables: tuple[TableCount, ...]
    count: int = 0
    """What a person counts here (tips shown, apps connected): the category's `count`, or rows."""

    @property
    def counted(self) -> str:
        """The count with its unit, as the page says it ("34 tips shown")."""
        singular, plural = self.category.unit
        return f"{self.count} {singular if self.count == 1 else plural}"


@dataclass(frozen=True)
class ComputedEntry:
    """One computed thing about the person, as readable facts."""

    title: str
    facts: tuple[tuple[str, str], ...]
    updated_at: datetime | None


async def _last_updated(table: type[Table], clause: Any) -> datetime | None:
    # Only the past counts: columns such as `until` or `expires_at` hold future times, which
    # say when something ends, not when it last changed.
    now = datetime.now(UTC)
    latest: datetime | None = None
    for column in table._meta.columns:
        if not isinstance(column, Timestamptz | Timestamp):
            continue
        row = (
            await table.select(column)
            .where(clause & column.is_not_null() & (column <= now))
            .order_by(column, ascending=False)
            .first()
        )
        value = row[column._meta.name] if row else None
        if isinstance(value, datetime) and (latest is None or value > latest):
            latest = value
    return latest


async def _count(table: type[Table], clause: Any, name: str) -> TableCount:
    rows = int(await table.count().where(clause))
    return TableCount(name, rows, await _last_updated(table, clause) if rows else None)


async def data_summary(user_id: str) -> list[CategoryView]:
    """Every category (those with no rows too), each with its tables' counts."""
    plan = ownership_map()
    per_category: dict[str, list[TableCount]] = {c.key: [] for c in (*all_categories(), OTHER)}
    per_category["account"].append(
        await _count(User, User.id == user_id, table_name("identity", User))
    )
    for owned in plan:
        count = await _count(owned.table, owner_clause(owned, plan, user_id), owned.name)
        per_category[category_of(owned).key].append(count)
    views: list[CategoryView] = []
    for category in (*all_categories(), OTHER):
        tables = tuple(sorted(per_category[category.key], key=lambda t: t.name))
        if category is OTHER and not any(t.rows for t in tables):
            continue
        stamps = [t.last_updated for t in tables if t.last_updated is not None]
        rows = sum(t.rows for t in tables)
        views.append(
            CategoryView(
                category=category,
                rows=rows,
                last_updated=max(stamps) if stamps else None,
                tables=tables,
                count=await category.count(user_id) if category.count else rows,
            )
        )
    return views


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return f"{len(value)} values"
    if isinstance(value, dict):
        return f"{len(value)} entries"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


_FLAGS = ("is_", "due_", "kind_")
"""Features that are yes-or-no questions (stored as 0.0 / 1.0 for the policies)."""


def _feature(name: str, value: Any) -> str:
    """A feature's value in words: "yes"/"no" for a flag, else the short number."""
    if name.startswith(_FLAGS) and value in (0, 1):
        return "yes" if value else "no"
    return _short(value)


# Ids, hashes and timings mean nothing to a person; the export keeps them all.
_MACHINE_VALUE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|^[0-9a-f]{16,}$", re.IGNORECASE)
_MACHINE_WORDS = ("hash", "latency", "prompt", "version", "propensity", "score", "ref", "_id")


def for_people(name: str, value: Any) -> bool:
    """Whether a fact is worth showing a person (not an id, hash, timing or model detail)."""
    if any(word in name.lower() for word in _MACHINE_WORDS) or name.lower() == "id":
        return False
    return not (isinstance(value, str) and _MACHINE_VALUE.search(value))


def _label(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip().capitalize()


# What the rows of a table of the profile category are, in words (the rest: "Other").
_SUMMARIES = {
    "llm.tip_candidate": "Tips written for you ahead of time",
    "llm.llm_call": "Times a language model wrote a tip for you",
}


async def _profile_entries(user_id: str) -> list[ComputedEntry]:
    """The profile domain's own view (through its service): features, inferred preferences,
    what each agent wrote — with how much evidence each rests on."""
    entries: list[ComputedEntry] = []
    features = [f for f in await profile.read_features(user_id) if f.computed_at is not None]
    shown = [f for f in features if for_people(f.name, f.value)]
    if shown:
        facts = tuple(
            (_label(f.name), _short(f.value) + ("" if f.fresh else " (being refreshed)"))
            for f in shown
        )
        stamps = [f.computed_at for f in shown if f.computed_at is not None]
        entries.append(ComputedEntry("What your history shows", facts, max(stamps)))
    inferred = [p for p in await profile.preferences(user_id) if p.source != "user"]
    if inferred:
        facts = tuple(
            (_label(p.key), f"{_short(p.value)}, from {p.evidence} events") for p in inferred
        )
        entries.append(
            ComputedEntry("What oO guessed you prefer", facts, max(p.updated_at for p in inferred))
        )
    names = profile.agent_names()
    for output in await profile.agent_outputs(user_id):
        facts = (("Wrote", _short(output.snippet)), ("From", f"{output.evidence} events"))
        title = f"Note by {names.get(output.agent_id, _label(output.agent_id))}"
        entries.append(ComputedEntry(title, facts, output.computed_at))
    return entries


async def _table_summary(owned: Owned, plan: list[Owned], user_id: str) -> ComputedEntry | None:
    count = await _count(owned.table, owner_clause(owned, plan, user_id), owned.name)
    if not count.rows:
        return None
    if owned.name == "recommender.policy_state":
        rows = await select_rows(owned.table, owner_clause(owned, plan, user_id), 20)
        answers = max((int(r.get("updates") or 0) for r in rows), default=0)
        facts = (
            ("Ways of picking it compares", str(len(rows))),
            ("Answers it learned from", str(answers)),
        )
        return ComputedEntry("How oO picks your tips", facts, count.last_updated)
    title = _SUMMARIES.get(owned.name, "Other things oO worked out")
    return ComputedEntry(title, (("How many", str(count.rows)),), count.last_updated)


async def computed(user_id: str) -> list[ComputedEntry]:
    """What oO derived about the person, in words: the profile domain's view, how the tip
    picker learned, and what oO looked at for the latest tip. Ids, hashes and timings stay in
    the export."""
    plan = ownership_map()
    entries = await _profile_entries(user_id)
    for owned in plan:
        key = category_of(owned).key
        if owned.app == "profile":
            continue  # shown above, the way the profile domain describes it
        if key == "profile":
            summary = await _table_summary(owned, plan, user_id)
            if summary is not None:
                entries.append(summary)
        elif key == "tips" and "features" in {c._meta.name for c in owned.table._meta.columns}:
            rows = await select_rows(owned.table, owner_clause(owned, plan, user_id), 1)
            features = jsonable(rows[0].get("features") or {}) if rows else {}
            if isinstance(features, dict) and features:
                facts = tuple(
                    (_label(k), _feature(k, v)) for k, v in features.items() if for_people(k, v)
                )[:_MAX_FACTS]
                stamp = rows[0].get("served_at")
                entries.append(ComputedEntry("What oO looked at for your latest tip", facts, stamp))
    return entries
