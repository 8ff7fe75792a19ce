"""The ownership map and its completeness checker: every table that refers to people is covered
by account deletion, and a table or column that would not be is reported."""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.columns import UUID, ForeignKey, Varchar
from piccolo.table import Table

from backend.identity.tables import User
from backend.privacy.registry import (
    TableEntry,
    code_tables,
    ownership_map,
    registry_tables,
    uncovered,
)
from backend.recommender.tables import ServedTip


class ForgottenNotes(Table, tablename="privacy_test_forgotten_notes"):
    """A new table with a user column that no Piccolo app registers."""

    user_id = UUID()
    note = Varchar()


class OrphanedChild(Table, tablename="privacy_test_orphaned_child"):
    """A table hanging off a served tip, registered nowhere."""

    tip = ForeignKey(ServedTip)


class OddOwner(Table, tablename="privacy_test_odd_owner"):
    """A registered table whose person column the deleter cannot match."""

    owner_user_id = Varchar()


class DeclaredNotes(Table, tablename="privacy_test_declared_notes"):
    """A registered table with a `user_id` column: covered without any further code."""

    user_id = UUID()


class ChildOfDeclared(Table, tablename="privacy_test_child_of_declared"):
    """Owned through its parent only."""

    notes = ForeignKey(DeclaredNotes)


def test_every_table_of_the_registry_is_covered() -> None:
    # The suite fails here when someone adds a table (or column) that deletion would miss.
    assert uncovered() == []


def test_every_table_in_our_code_is_registered() -> None:
    registered = {t for _, t in registry_tables()}
    missing = [t.__name__ for t in code_tables() if t not in registered]
    assert missing == []


def _new_problems(
    extra_tables: Sequence[type[Table]] = (), plan_tables: Sequence[TableEntry] | None = None
) -> list[str]:
    """What the checker reports beyond the real registry's own state (tested on its own above),
    so these tests stay about the throwaway tables."""
    baseline = set(uncovered())
    return [p for p in uncovered(extra_tables, plan_tables) if p not in baseline]


def test_a_new_table_without_deletion_support_is_flagged() -> None:
    problems = _new_problems(extra_tables=[ForgottenNotes])
    assert len(problems) == 1
    assert "privacy_test_forgotten_notes" in problems[0]
    assert "user_id" in problems[0]
    assert "no Piccolo app" in problems[0]


def test_a_table_pointing_at_owned_rows_is_flagged_too() -> None:
    problems = _new_problems(extra_tables=[OrphanedChild])
    assert len(problems) == 1
    assert "privacy_test_orphaned_child" in problems[0]


def test_a_user_column_the_deleter_cannot_match_is_flagged() -> None:
    problems = _new_problems(plan_tables=[*registry_tables(), ("test", OddOwner)])
    assert len(problems) == 1
    assert "privacy_test_odd_owner.owner_user_id" in problems[0]


def test_registering_a_table_is_all_it_takes() -> None:
    plan_tables = [*registry_tables(), ("test", DeclaredNotes), ("test", ChildOfDeclared)]
    assert _new_problems(plan_tables=plan_tables) == []
    plan = {o.table: o for o in ownership_map(plan_tables)}
    assert [c._meta.name for c in plan[DeclaredNotes].user_columns] == ["user_id"]
    assert plan[ChildOfDeclared].user_columns == ()
    assert [t for _, t in plan[ChildOfDeclared].parent_links] == [DeclaredNotes]


def test_children_come_before_parents() -> None:
    order = [o.table._meta.tablename for o in ownership_map()]
    assert order.index("feedback") < order.index("served_tip")
    assert User not in {o.table for o in ownership_map()}
