"""What the data page shows: per category, how many rows and when they last changed; and what
oO computed about the person (learned state, the features behind their latest tip)."""

from __future__ import annotations

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
        views.append(
            CategoryView(
                category=category,
                rows=sum(t.rows for t in tables),
                last_updated=max(stamps) if stamps else None,
                tables=tables,
            )
        )
    return views


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return f"{len(value)} values"
    if isinstance(value, dict):
        return f"{len(value)} entries"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _numbers(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_numbers(v) for v in value)
    return 1 if isinstance(value, int | float) and not isinstance(value, bool) else 0


# Columns that name a computed thing, in order of preference: they become its title.
_TITLE_COLUMNS = (("policy_id", "Policy"), ("agent_id", "Agent"), ("key", ""), ("name", ""))


def _title(owned: Owned, row: dict[str, Any]) -> tuple[str, set[str]]:
    for column, word in _TITLE_COLUMNS:
        if row.get(column):
            used = {column, *(c for c in row if c.endswith("version"))}
            versions = [str(row[c]) for c in row if c.endswith("version") and row[c]]
            suffix = f" (v{versions[0]})" if versions else ""
            return f"{word} {row[column]}".strip() + suffix, used
    return owned.name, set()


def _facts(owned: Owned, row: dict[str, Any], used: set[str]) -> tuple[tuple[str, str], ...]:
    skip = used | {owned.table._meta.primary_key._meta.name}
    skip |= {c._meta.name for c in owned.user_columns}
    skip |= {c._meta.name for c in owned.table._meta.foreign_key_columns}
    facts: list[tuple[str, str]] = []
    for name, value in row.items():
        if name in skip or value is None or isinstance(value, datetime):
            continue
        label = name.replace("_", " ")
        scalar_dict = isinstance(value, dict) and all(
            not isinstance(v, dict | list) for v in value.values()
        )
        if scalar_dict and len(value) <= _MAX_FACTS:
            facts.extend((f"{label}: {k}".replace("_", " "), _short(v)) for k, v in value.items())
        elif isinstance(value, dict | list):
            # Model internals (matrices, vectors) mean nothing row by row; say how much there is.
            facts.append((label, f"{_numbers(value)} learned numbers"))
        else:
            facts.append((label, _short(value)))
    return tuple(facts[:_MAX_FACTS])


async def _latest_rows(owned: Owned, plan: list[Owned], user_id: str, limit: int) -> list[Any]:
    rows = await select_rows(owned.table, owner_clause(owned, plan, user_id), limit)
    stamps = [c for c in owned.table._meta.columns if isinstance(c, Timestamptz | Timestamp)]
    return [(r, r.get(stamps[0]._meta.name) if stamps else None) for r in rows]


async def _profile_entries(user_id: str) -> list[ComputedEntry]:
    """The profile domain's own view (through its service): features, inferred preferences,
    what each agent wrote — with how much evidence each rests on."""
    entries: list[ComputedEntry] = []
    features = [f for f in await profile.read_features(user_id) if f.computed_at is not None]
    if features:
        facts = tuple(
            (f.name.replace("_", " "), _short(f.value) + ("" if f.fresh else " (stale)"))
            for f in features
        )
        stamps = [f.computed_at for f in features if f.computed_at is not None]
        entries.append(ComputedEntry("Profile features", facts, max(stamps)))
    inferred = [p for p in await profile.preferences(user_id) if p.source != "user"]
    if inferred:
        facts = tuple(
            (f"{p.key.replace('_', ' ')} ({p.scope})", f"{_short(p.value)} · {p.evidence} events")
            for p in inferred
        )
        entries.append(
            ComputedEntry("Inferred preferences", facts, max(p.updated_at for p in inferred))
        )
    for output in await profile.agent_outputs(user_id):
        facts = (("wrote", _short(output.snippet)), ("from", f"{output.evidence} events"))
        entries.append(ComputedEntry(f"Agent {output.agent_id}", facts, output.computed_at))
    return entries


async def computed(user_id: str) -> list[ComputedEntry]:
    """What oO derived about the person: the profile domain's view, the learned policy state,
    and the features that were logged with their latest tip (what the policies see)."""
    plan = ownership_map()
    entries = await _profile_entries(user_id)
    for owned in plan:
        key = category_of(owned).key
        if owned.app == "profile":
            continue  # shown above, the way the profile domain describes it
        if key == "profile":
            for row, stamp in await _latest_rows(owned, plan, user_id, 20):
                title, used = _title(owned, row)
                entries.append(ComputedEntry(title, _facts(owned, row, used), stamp))
        elif key == "tips" and "features" in {c._meta.name for c in owned.table._meta.columns}:
            for row, stamp in await _latest_rows(owned, plan, user_id, 1):
                features = jsonable(row.get("features") or {})
                if isinstance(features, dict) and features:
                    facts = tuple((k.replace("_", " "), _short(v)) for k, v in features.items())
                    entries.append(ComputedEntry("Features of your latest tip", facts, stamp))
    return entries
