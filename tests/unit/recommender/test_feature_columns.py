"""The column-wise features equal `candidate_features` bit for bit; eligibility equals
`still_relevant`; the columns cache keeps a list while its objects come back and builds anew
when the list changes.

Random lists mix every kind, due and undue tasks (past, today, soon, later), candidates without
an added time, repeated projects and item_refs, written tips about open, hidden and absent
tasks, a history that served some of the candidates (and items no longer open), completion
habits, and timezones whose local date differs from UTC's.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from backend.contracts.candidate import KINDS, Candidate
from backend.recommender.candidate_columns import (
    MIN_CACHED_LENGTH,
    CandidateColumns,
    ColumnsCache,
)
from backend.recommender.choice_model import SLOTS, TERMS, ChoiceModel
from backend.recommender.decisions import eligible_rows, still_relevant
from backend.recommender.feature_columns import (
    KEYS,
    TableMappings,
    feature_table,
    rounded,
    row_mapping,
    shares,
)
from backend.recommender.features import Context, candidate_features, with_habits
from backend.recommender.habits import Completion, Habits
from backend.recommender.history import UserHistory

NOW = datetime(2026, 3, 27, 23, 41, 7, 123456, tzinfo=UTC)
PROJECTS = ("Home", "Work", "Errands", "", "Side", "Garden")
ZONES = ("UTC", "Pacific/Auckland", "America/Los_Angeles")


def _candidate(rng: random.Random, i: int, refs: list[str]) -> Candidate:
    kind = rng.choice(KINDS)
    due: date | None = None
    if rng.random() < 0.7:
        due = (NOW + timedelta(days=rng.randint(-40, 10))).date()
    added = NOW - timedelta(seconds=rng.uniform(-3600, 90 * 86400)) if rng.random() < 0.9 else None
    about = rng.choice([*refs[:5], "demo:gone"]) if kind != "task" and rng.random() < 0.5 else None
    return Candidate(
        item_ref=rng.choice(refs) if rng.random() < 0.05 and refs else f"demo:{i}",
        source="demo" if kind == "task" else "written",
        kind=kind,
        content=f"Item {i}",
        priority=rng.randint(1, 4),
        due_date=due,
        added_at=added,
        project=rng.choice(PROJECTS),
        is_recurring=rng.random() < 0.2,
        about=about,
    )


def _candidates(rng: random.Random, n: int) -> list[Candidate]:
    refs: list[str] = []
    out = []
    for i in range(n):
        c = _candidate(rng, i, refs)
        refs.append(c.item_ref)
        out.append(c)
    return out


def _history(rng: random.Random, candidates: list[Candidate], zone: str) -> UserHistory:
    rows = []
    for c in rng.sample(candidates, k=min(len(candidates), 30)) + candidates[:0]:
        for _ in range(rng.randint(1, 3)):
            served = NOW - timedelta(hours=rng.uniform(-1, 800))
            reaction = rng.choice([None, "done", "snooze", "dismiss"])
            rows.append(
                {
                    "item_ref": c.item_ref,
                    "project": c.project,
                    "served_at": served,
                    "reaction": reaction,
                    "reacted_at": served + timedelta(minutes=5) if reaction else None,
                }
            )
    rows.append({"item_ref": "demo:closed", "project": "Home", "served_at": NOW, "reaction": None})
    return UserHistory.from_rows(rows, zone)


def _habits(rng: random.Random, zone: str) -> Habits:
    done = [
        Completion(
            NOW - timedelta(hours=rng.uniform(1, 900)),
            rng.choice(PROJECTS[:4]),
            (NOW - timedelta(days=rng.randint(-5, 20))).date() if rng.random() < 0.5 else None,
        )
        for _ in range(rng.randint(0, 60))
    ]
    habits = Habits.from_completions(done, zone)
    if rng.random() < 0.2:
        return habits
    # A fitted choice model (history_fit.py) with weights of either sign; one project unseen.
    choice = ChoiceModel(
        n=len(done),
        weights=tuple(rng.uniform(-1.5, 1.5) for _ in TERMS),
        projects={p: tuple(rng.uniform(-1, 1) for _ in SLOTS) for p in PROJECTS[:3]},
    )
    return replace(habits, choice=choice)


@pytest.mark.parametrize("seed", range(12))
def test_column_features_equal_candidate_features(seed: int) -> None:
    rng = random.Random(seed)
    zone = ZONES[seed % len(ZONES)]
    items = _candidates(rng, rng.choice([1, 7, 40, 300]))
    hidden = {c.item_ref for c in rng.sample(items, k=len(items) // 5)}
    columns = CandidateColumns(items)
    rows = eligible_rows(columns, hidden, [])
    expected_items = still_relevant(items, hidden)
    candidates = [items[i] for i in rows.tolist()]
    assert candidates == expected_items
    if not candidates:
        return
    now = NOW + timedelta(minutes=rng.randint(0, 600))
    base = Context(now=now, timezone=zone, history=_history(rng, items, zone))
    with_shares = with_habits(base, _habits(rng, zone), candidates)
    open_share, overdue_share = shares(columns, rows, base.local.date().toordinal())
    assert open_share == with_shares.open_share  # the same floats, not approximately
    assert overdue_share == with_shares.overdue_share
    table = feature_table(columns, rows, candidates, with_shares)
    assert table.keys == KEYS
    for i, c in enumerate(candidates):
        expected = candidate_features(c, with_shares)
        assert row_mapping(table, i) == expected, (i, c)
        # In its order too: the served tip's features are shown to the person in this order.
        assert list(row_mapping(table, i)) == list(expected)
    mappings = TableMappings(table)
    last = {c.item_ref: i for i, c in enumerate(candidates)}
    assert {ref: dict(mappings[ref]) for ref in mappings} == {
        ref: row_mapping(table, i) for ref, i in last.items()
    }


def test_column_features_without_history_or_habits() -> None:
    items = _candidates(random.Random(99), 50)
    columns = CandidateColumns(items)
    rows = np.arange(len(items))
    context = replace(Context(now=NOW), open_share={}, overdue_share=0.0)
    table = feature_table(columns, rows, items, context)
    for i, c in enumerate(items):
        assert row_mapping(table, i) == candidate_features(c, context)


def test_rounding_matches_python_round_on_ties() -> None:
    values = np.array([2.675, 0.0005, 1.0015, 0.1235, 7.77775, 123.4565, -0.0005, 5.0])
    for digits in (3, 4):
        assert rounded(values, digits).tolist() == [round(v, digits) for v in values.tolist()]


def test_a_gate_removes_rows_before_anything_is_scored() -> None:
    items = _candidates(random.Random(3), 40)
    columns = CandidateColumns(items)
    no_recurring = eligible_rows(columns, set(), [lambda c: not c.is_recurring])
    assert [items[i] for i in no_recurring.tolist()] == [
        c for c in still_relevant(items, set()) if not c.is_recurring
    ]


def test_the_cache_keeps_a_list_while_its_objects_come_back() -> None:
    cache = ColumnsCache(max_rows=2 * (MIN_CACHED_LENGTH + 10))
    tasks = _candidates(random.Random(5), MIN_CACHED_LENGTH + 10)
    first = cache.columns_of(tasks)
    assert cache.columns_of(list(tasks)) is first, "the same objects in a new list: kept"
    assert cache.built == 1
    closed = tasks[1:]  # one task closed at the next sync
    after_close = cache.columns_of(closed)
    assert after_close is not first
    assert after_close.candidates == closed
    new = Candidate(item_ref="demo:new", source="demo", kind="task", content="New")
    after_add = cache.columns_of([*closed, new])
    assert "demo:new" in after_add.refs
    # A decoded copy of the same list (a sync that changed nothing still decodes anew when the
    # bytes differ) is new objects: built again rather than trusted by value.
    copies = [replace(c) for c in tasks]
    assert cache.columns_of(copies) is not first
    assert cache.built == 4
    cache.columns_of(tasks)  # dropped by now: the cache holds about two lists' rows
    assert cache.built == 5


def test_combined_batches_equal_one_list() -> None:
    rng = random.Random(11)
    tasks = _candidates(rng, MIN_CACHED_LENGTH + 5)
    written = [replace(c, kind="advice", about=tasks[2].item_ref) for c in _candidates(rng, 6)]
    cache = ColumnsCache()
    combined = cache.combined([tasks, [], written])
    whole = CandidateColumns([*tasks, *written])
    assert combined.candidates == whole.candidates
    for name in ("has_due", "due_day", "added_us", "priority", "is_task", "is_advice"):
        assert np.array_equal(getattr(combined, name), getattr(whole, name)), name
    assert [combined.projects[p] for p in combined.project] == [c.project for c in whole.candidates]
    hidden = {tasks[2].item_ref, tasks[7].item_ref}
    assert np.array_equal(combined.eligible(hidden), whole.eligible(hidden))
    assert sorted(combined.rows_of(hidden).tolist()) == sorted(whole.rows_of(hidden).tolist())
