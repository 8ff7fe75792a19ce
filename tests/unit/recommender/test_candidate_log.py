"""The compact candidate log reads back as the row form would have logged it: every candidate,
every key, each value `round(v, 4)`; rows logged in the row form still read; a malformed log
reads as nothing."""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pytest

from backend.recommender.candidate_log import (
    MAX_LEVELS,
    SAMPLE,
    compact,
    logged_projects,
    logged_rows,
)


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack(
        [
            np.full(n, 18.0),  # the hour: one value for all
            rng.integers(0, 2, n).astype(float),  # a flag
            rng.choice([0.1234, -0.5, 0.0, 1.23456789], n),  # per project: a few values
            rng.uniform(0, 400, n),  # ages: one value each
            np.where(rng.random(n) < 0.9, 720.0, rng.uniform(0, 720, n)),  # mostly the default
            rng.integers(-3, 40, n).astype(float),  # whole numbers, many of them
        ]
    )


@pytest.mark.parametrize("n", [1, 2, 17, 500])
def test_the_compact_log_reads_back_as_rounded_rows(n: int) -> None:
    rng = np.random.default_rng(n)
    refs = [f"demo:{i}" for i in range(n)]
    keys = ["hour_of_day", "is_overdue", "habit_project", "task_age_days", "hours", "days"]
    values = _values(rng, n)
    stored = json.loads(msgspec.json.encode(compact(refs, keys, values)))  # as the DB returns it
    read = logged_rows(stored)
    assert read is not None
    got_refs, got_keys, rows = read
    assert (got_refs, got_keys) == (refs, keys)
    assert rows == [[round(v, 4) for v in row] for row in values.tolist()]
    if n > 1:
        assert not isinstance(stored["columns"][0], list), "a constant column is one number"
        assert isinstance(stored["columns"][2], dict), "few values: levels and codes"


def test_the_compact_log_is_much_smaller_than_rows() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    refs = [f"demo:{i:032x}" for i in range(n)]
    keys = [f"k{j}" for j in range(6)]
    values = _values(rng, n)
    rows = {"refs": refs, "keys": keys, "values": np.round(values, 4).tolist()}
    columns = compact(refs, keys, values)
    numbers_of_rows = len(msgspec.json.encode(rows)) - len(msgspec.json.encode(refs))
    numbers_of_columns = len(msgspec.json.encode(columns)) - len(msgspec.json.encode(refs))
    assert numbers_of_columns < 0.6 * numbers_of_rows


def test_many_distinct_values_are_one_number_each() -> None:
    values = np.arange(MAX_LEVELS + 1, dtype=float)[:, None] / 3
    log = compact([f"r{i}" for i in range(len(values))], ["x"], values)
    assert isinstance(log["columns"][0], list)
    read = logged_rows(json.loads(msgspec.json.encode(log)))
    assert read is not None
    assert [row[0] for row in read[2]] == [round(v / 3, 4) for v in range(MAX_LEVELS + 1)]


def test_rows_logged_in_the_row_form_still_read() -> None:
    old = {"refs": ["a", "b"], "keys": ["x", "y"], "values": [[1.0, 2.0], [3.0, 4.5]]}
    assert logged_rows(old) == (["a", "b"], ["x", "y"], [[1.0, 2.0], [3.0, 4.5]])


@pytest.mark.parametrize(
    "log",
    [
        None,
        "not a log",
        {"refs": ["a"]},
        {"refs": ["a", "b"], "keys": ["x"], "columns": [[1.0]]},  # one value for two rows
        {"refs": ["a"], "keys": ["x"], "columns": [{"levels": [1.0], "codes": [3]}]},
        {"refs": ["a"], "keys": ["x"], "columns": [{"levels": [1.0]}]},
        {"refs": ["a"], "keys": ["x"], "columns": ["text"]},
        {"refs": ["a"], "keys": ["x"], "columns": [True]},
    ],
)
def test_a_malformed_log_reads_as_nothing(log: object) -> None:
    assert logged_rows(log) is None


def test_each_candidates_project_is_logged_beside_its_features() -> None:
    values = np.zeros((3, 1))
    log = compact(["a", "b", "c"], ["x"], values, (["Home", "Work"], [1, 0, 1]))
    stored = json.loads(msgspec.json.encode(log))
    assert logged_projects(stored, 3) == ["Work", "Home", "Work"]
    assert logged_rows(stored) is not None, "readers of the features are not disturbed"


@pytest.mark.parametrize(
    "log",
    [
        {"refs": ["a", "b"], "keys": [], "columns": []},  # logged before projects were
        {"projects": {"levels": ["Home"], "codes": [0]}},  # one code for two candidates
        {"projects": {"levels": ["Home"], "codes": [0, 3]}},  # a code out of range
        {"projects": ["Home", "Home"]},
        None,
    ],
)
def test_a_log_without_usable_projects_reads_as_no_project(log: object) -> None:
    assert logged_projects(log, 2) == ["", ""]


@pytest.mark.parametrize("seed", range(6))
def test_levels_guessed_from_a_sample_are_what_a_full_sort_gives(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    few = rng.choice([0.0, 1.0, 2.5, 4.0], n)
    few[-1] = 7.0  # a level the first rows never show: the guess must not drop it
    many_late = np.where(np.arange(n) < SAMPLE, 1.0, rng.uniform(0, 9, n))  # distinct after it
    for values in (few, many_late, rng.integers(0, MAX_LEVELS, n).astype(float)):
        column = compact([f"r{i}" for i in range(n)], ["x"], values[:, None])["columns"][0]
        levels, codes = np.unique(np.round(values, 4), return_inverse=True)
        if len(levels) <= MAX_LEVELS:
            assert column == {"levels": levels.tolist(), "codes": codes.tolist()}
        else:
            assert column == np.round(values, 4).tolist()
