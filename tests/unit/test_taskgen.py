"""Synthetic tasks: realistic mixes, every kind present, reproducible from a seed."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from backend.integrations.taskgen import PROJECT_TASKS, RECURRING_DAYS, generate_tasks

FOLLOW_UP = re.compile(r" \(follow-up(?: \d+)?\)$")
NOW = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)
TODAY = NOW.date()


def base_title(content: str) -> str:
    return FOLLOW_UP.sub("", content)


@pytest.mark.parametrize("seed", range(40))
def test_shape_of_a_generated_set(seed: int) -> None:
    tasks = generate_tasks(random.Random(seed), NOW)
    assert 20 <= len(tasks) <= 40
    projects = {t.project for t in tasks}
    assert 3 <= len(projects) <= 5
    assert projects <= set(PROJECT_TASKS)
    assert {t.priority for t in tasks} <= {1, 2, 3, 4}
    assert any(t.due_date is not None and t.due_date < TODAY for t in tasks), "an overdue task"
    assert any(t.due_date == TODAY for t in tasks), "a task due today"
    assert any(t.recur_days > 0 for t in tasks), "a recurring task"
    assert {t.recur_days for t in tasks} <= {0, *RECURRING_DAYS}
    assert all(t.added_at <= NOW for t in tasks)
    assert all(t.content.strip() for t in tasks)
    assert all(base_title(t.content) in PROJECT_TASKS[t.project] for t in tasks), (
        "each title belongs to its project"
    )
    assert len({t.content for t in tasks}) == len(tasks), "no two tasks read the same"


def test_counts_cover_the_whole_range() -> None:
    sizes = {len(generate_tasks(random.Random(seed), NOW)) for seed in range(200)}
    assert min(sizes) == 20
    assert max(sizes) == 40
    n_projects = {
        len({t.project for t in generate_tasks(random.Random(s), NOW)}) for s in range(200)
    }
    assert n_projects == {3, 4, 5}


def test_priorities_use_every_level() -> None:
    levels = {t.priority for s in range(20) for t in generate_tasks(random.Random(s), NOW)}
    assert levels == {1, 2, 3, 4}


def test_same_seed_same_tasks() -> None:
    assert generate_tasks(random.Random(7), NOW) == generate_tasks(random.Random(7), NOW)
    assert generate_tasks(random.Random(7), NOW) != generate_tasks(random.Random(8), NOW)


def test_explicit_count_beyond_the_title_pool() -> None:
    tasks = generate_tasks(random.Random(1), NOW, count=120)
    assert len(tasks) == 120
    assert len({t.content for t in tasks}) == 120
    assert any(t.content.endswith(" (follow-up)") for t in tasks)
    assert any(t.content.endswith(" (follow-up 2)") for t in tasks)
    assert not any(t.content.count("follow-up") > 1 for t in tasks)
