"""Where a person's data lives: every table that refers to a user, found by introspection.

Account deletion, the export, the data dashboard and the completeness test all read this one map,
built from the Piccolo app registry (one app per domain). A table added to any registered app is
deleted, exported and counted with no further code. What the map cannot see — a table in no
registered app, a column that looks like a user reference but is neither a ForeignKey to User nor
named `user_id`, a table in the database that no app declares — is reported by `uncovered()` and
`uncovered_in_database()`, and the test suite fails on it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column, ForeignKey
from piccolo.conf.apps import Finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table, sort_table_classes

from backend.identity.tables import User

USER_ID_COLUMN = "user_id"
# Names that look like they point at a person: user, user_id, owner_user_id, users_seen, …
_USERISH = re.compile(r"(^|_)users?(_|$)")
# Columns whose rows outlive the person: deletion sets them to NULL (the row stays, the link to
# the person goes). ("app.table", "column") → why.
NULLIFY_COLUMNS: dict[tuple[str, str], str] = {
    ("admin.admin_audit", "actor_user_id"): "audit lines outlive their actor (no foreign key)",
}
# Reviewed exceptions: ("app.table", "column") → why deletion may leave the column alone.
EXEMPT_COLUMNS: dict[tuple[str, str], str] = {}
# Piccolo's own bookkeeping; holds no personal data.
_INTERNAL_DB_TABLES = {"migration"}

TableEntry = tuple[str, type[Table]]


@dataclass(frozen=True)
class Owned:
    """A table holding rows about people, and how a row is tied to its person."""

    app: str
    table: type[Table]
    # The row is the person's when any of these equals their id (FK to User, or `user_id`).
    user_columns: tuple[Column, ...]
    # …or when the row its ForeignKey points at is the person's (e.g. a child of a served tip).
    parent_links: tuple[tuple[ForeignKey[Any], type[Table]], ...]

    @property
    def name(self) -> str:
        """`app.tablename`, the key used in exports and on the dashboard."""
        return table_name(self.app, self.table)


def table_name(app: str, table: type[Table]) -> str:
    """`app.tablename`."""
    return f"{app}.{table._meta.tablename}"


def registry_tables() -> list[TableEntry]:
    """(app, table) for every table of every app in the registry PICCOLO_CONF names."""
    return [
        (config.app_name, table)
        for config in Finder().get_app_registry().app_configs.values()
        for table in config.table_classes
    ]


def is_user_table(table: type[Table]) -> bool:
    """True for the people table itself (anonymised in place, never deleted)."""
    return table._meta.tablename == User._meta.tablename


def _references(column: Column) -> type[Table] | None:
    if not isinstance(column, ForeignKey):
        return None
    return column._foreign_key_meta.resolved_references


def user_columns(table: type[Table]) -> list[Column]:
    """Columns the deleter matches against a person's id: FKs to User, and `user_id`."""
    found: list[Column] = []
    for column in table._meta.columns:
        target = _references(column)
        if (target is not None and is_user_table(target)) or column._meta.name == USER_ID_COLUMN:
            found.append(column)
    return found


def userish_columns(table: type[Table]) -> list[Column]:
    """Columns that look like they refer to a person (what the checker worries about)."""
    # Compared by name: Column overloads `==` to build WHERE clauses, so `in` would lie.
    direct = {c._meta.name for c in user_columns(table)}
    return [
        c
        for c in table._meta.columns
        if c._meta.name in direct
        or _USERISH.search(c._meta.name)
        or _USERISH.search(c._meta.db_column_name)
    ]


def ownership_map(tables: Sequence[TableEntry] | None = None) -> list[Owned]:
    """Every table whose rows belong to people, children before parents (safe delete order)."""
    entries = [(a, t) for a, t in (tables or registry_tables()) if not is_user_table(t)]
    direct = {t: tuple(user_columns(t)) for _, t in entries}
    owned: set[type[Table]] = {t for t, cols in direct.items() if cols}
    # A table pointing at an owned table is owned too (its rows die with their parent);
    # repeat until nothing changes so chains of any length are found.
    changed = True
    while changed:
        changed = False
        for _, table in entries:
            if table in owned:
                continue
            if any(_references(c) in owned for c in table._meta.foreign_key_columns):
                owned.add(table)
                changed = True
    app_of = {t: a for a, t in entries}
    ordered = list(reversed(sort_table_classes([t for _, t in entries if t in owned])))
    return [
        Owned(
            app=app_of[table],
            table=table,
            user_columns=direct[table],
            parent_links=tuple(
                (c, ref)
                for c in table._meta.foreign_key_columns
                if (ref := _references(c)) in owned and ref is not table
            ),
        )
        for table in ordered
    ]


def nullify_map(
    tables: Sequence[TableEntry] | None = None,
) -> list[tuple[str, type[Table], Column]]:
    """(name, table, column) for each registered column in NULLIFY_COLUMNS."""
    found = []
    for app, table in tables or registry_tables():
        for column in table._meta.columns:
            if (table_name(app, table), column._meta.name) in NULLIFY_COLUMNS:
                found.append((table_name(app, table), table, column))
    return found


def owner_clause(owned: Owned, plan: Sequence[Owned], user_id: str) -> Any:
    """A WHERE clause selecting the person's rows of `owned` (through parents when needed)."""
    by_table = {o.table: o for o in plan}
    return _clause(owned, by_table, user_id, frozenset())


def _clause(
    owned: Owned, by_table: dict[type[Table], Owned], user_id: str, seen: frozenset[type[Table]]
) -> Any:
    clause: Any = None
    for column in owned.user_columns:
        part = column == user_id
        clause = part if clause is None else clause | part
    if clause is not None:
        # A direct user column is authoritative; parents add nothing but cost.
        return clause
    seen = seen | {owned.table}
    for fk, parent_table in owned.parent_links:
        parent = by_table.get(parent_table)
        if parent is None or parent_table in seen:
            continue
        target = fk._foreign_key_meta.resolved_target_column
        sub = parent_table.select(target).where(_clause(parent, by_table, user_id, seen))
        part = fk.is_in(sub)
        clause = part if clause is None else clause | part
    if clause is None:
        raise LookupError(f"{owned.name} has no path to a person")
    return clause


# The completeness checker ----------------------------------------------------------------


def code_tables(packages: Iterable[str] = ("backend", "agents")) -> list[type[Table]]:
    """Every Table class defined in our packages (their `tables` modules are imported first)."""
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.submodule_search_locations is None:
            continue
        for info in pkgutil.iter_modules(spec.submodule_search_locations):
            name = f"{package}.{info.name}.tables"
            if info.ispkg and importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
    found: list[type[Table]] = []
    stack = list(Table.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in packages:
            found.append(cls)
    return found


def uncovered(
    extra_tables: Iterable[type[Table]] = (),
    plan_tables: Sequence[TableEntry] | None = None,
) -> list[str]:
    """What refers to people but account deletion would not cover; empty when all is well.

    The deleter works from `plan_tables` (default: the registry). Checked are those tables, every
    Table class in our code, and `extra_tables`: a table outside the plan that refers to a person
    or to an owned table is reported, and so is any user-looking column the plan does not match.
    """
    entries = list(plan_tables or registry_tables())
    plan = {o.table: o for o in ownership_map(entries)}
    declared: dict[type[Table], str] = {t: a for a, t in entries}
    candidates = dict(declared)
    for table in (*code_tables(), *extra_tables):
        candidates.setdefault(table, "(no app)")
    problems: list[str] = []
    for table, app in candidates.items():
        if is_user_table(table):
            continue
        name = table_name(app, table)
        userish = userish_columns(table)
        links = [c for c in table._meta.foreign_key_columns if _references(c) in plan]
        if table not in declared:
            if userish or links:
                cols = ", ".join(c._meta.name for c in (*userish, *links))
                problems.append(
                    f"{name} ({table.__module__}.{table.__name__}) refers to people ({cols}) "
                    "but is in no Piccolo app of APP_REGISTRY: account deletion never sees it"
                )
            continue
        owned = plan.get(table)
        handled = {c._meta.name for c in owned.user_columns} if owned else set()
        for column in userish:
            col = (name, column._meta.name)
            if column._meta.name in handled or col in EXEMPT_COLUMNS or col in NULLIFY_COLUMNS:
                continue
            problems.append(
                f"{name}.{column._meta.name} looks like a user reference the deleter does not "
                f"match: make it a ForeignKey to User, name it {USER_ID_COLUMN}, or list it in "
                "backend/privacy/registry.py NULLIFY_COLUMNS or EXEMPT_COLUMNS with the reason"
            )
    return problems


async def database_columns() -> dict[str, list[str]]:
    """Every table of the live database → its column names."""
    from backend.db import engine

    db = engine()
    if isinstance(db, PostgresEngine):
        rows = await db.run_ddl(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        result: dict[str, list[str]] = {}
        for row in rows:
            result.setdefault(row["table_name"], []).append(row["column_name"])
        return result
    names = await db.run_ddl("SELECT name FROM sqlite_master WHERE type = 'table'")
    result = {}
    for row in names:
        name = row["name"]
        if name.startswith("sqlite_"):
            continue
        info = await db.run_ddl(f'PRAGMA table_info("{name}")')
        result[name] = [r["name"] for r in info]
    return result


async def uncovered_in_database() -> list[str]:
    """Tables or columns in the live database that refer to people but no app declares."""
    declared = {t._meta.tablename: t for _, t in registry_tables()}
    problems: list[str] = []
    for name, columns in (await database_columns()).items():
        if name in _INTERNAL_DB_TABLES:
            continue
        table = declared.get(name)
        known = {c._meta.db_column_name for c in table._meta.columns} if table else set()
        for column in columns:
            if column in known or not _USERISH.search(column):
                continue
            where = "a table no Piccolo app declares" if table is None else "an undeclared column"
            problems.append(f"database {name}.{column} refers to people in {where}")
    return problems
