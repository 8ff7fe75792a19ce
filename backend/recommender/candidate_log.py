"""The logged candidate set of a decision: every candidate's raw features, compact by column.

Off-policy evaluation replays other policies on every candidate a decision scored, so the log
keeps all of them (ADR 0014, 0028). At 2,000 candidates × 23 features the row form
(`{"refs", "keys", "values": [[…] per candidate]}`) was ~330 kB of JSON per decision: encoding it
and PostgreSQL parsing it into JSONB cost more than the rest of the pick. Most columns say little
per candidate — the hour and weekday are one value for all, kind and due flags take two or three
values, project features one per project — so the log is written by column (ADR 0036):

    {"refs": [item_ref, …], "keys": [key, …], "columns": [column, …]}, a column per key:
        a number                              every candidate has this value
        {"levels": [v, …], "codes": [i, …]}    few distinct values: row r has levels[codes[r]]
        [v, …]                                one value per candidate

Numbers are rounded to 4 decimals as before, and written as integers when whole. Readers use
`logged_rows`, which reads both forms (rows logged before this change keep the row form).

Each candidate's project is logged too, as `"projects": {"levels": [name, …], "codes": [i, …]}`
(ADR 0046): shadow policies score a decision later, in the worker, from this log alone, and the
person's project cells need the project, which no raw feature carries. `logged_projects` reads
it ("" for every candidate of a log written before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.recommender.feature_columns import rounded

MAX_LEVELS = 32
"""A column with at most this many distinct values is written as levels and codes."""

Column = float | int | list[Any] | dict[str, list[Any]]


def _numbers(values: np.ndarray) -> list[Any]:
    """JSON numbers of a vector: integers when every value is whole, else floats."""
    whole = np.all(values == np.trunc(values)) and np.all(np.abs(values) < 2.0**53)
    numbers: list[Any] = values.astype(np.int64).tolist() if whole else values.tolist()
    return numbers


SAMPLE = 256
"""Rows a column's levels are first guessed from (np.unique sorts: on a sample, not 2,000)."""


def _levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(sorted distinct values, each row's index into them) when there are at most MAX_LEVELS,
    else None — as np.unique(values, return_inverse=True) gives them, without sorting every
    row: the levels are guessed from the first SAMPLE rows and kept when they cover all."""
    guess = np.unique(values[:SAMPLE])
    if len(guess) > MAX_LEVELS:
        return None
    codes = np.minimum(np.searchsorted(guess, values), len(guess) - 1)
    if np.array_equal(guess[codes], values):
        return guess, codes
    levels, codes = np.unique(values, return_inverse=True)
    return (levels, codes) if len(levels) <= MAX_LEVELS else None


def _column(values: np.ndarray) -> Column:
    first = values[0]
    if np.all(values == first):
        return int(first) if float(first).is_integer() else float(first)
    found = _levels(values)
    if found is not None:
        levels, codes = found
        return {"levels": _numbers(levels), "codes": codes.astype(np.int64).tolist()}
    return _numbers(values)


def compact(
    refs: Sequence[str],
    keys: Sequence[str],
    values: np.ndarray,
    projects: tuple[Sequence[str], Sequence[int]] | None = None,
) -> dict[str, Any]:
    """The log of one decision's candidates (rows of `values`, columns of `keys`); `projects`:
    (project names, each row's index into them), when known."""
    if not len(refs):
        return {"refs": [], "keys": list(keys), "columns": []}
    matrix = rounded(values, 4)
    log: dict[str, Any] = {
        "refs": list(refs),
        "keys": list(keys),
        "columns": [_column(matrix[:, j]) for j in range(matrix.shape[1])],
    }
    if projects is not None:
        log["projects"] = {"levels": list(projects[0]), "codes": list(projects[1])}
    return log


def logged_projects(log: Any, n: int) -> list[str]:
    """Each of a logged candidate set's `n` candidates' project ("" where the log has none)."""
    found = log.get("projects") if isinstance(log, dict) else None
    if isinstance(found, dict):
        levels, codes = found.get("levels"), found.get("codes")
        if (
            isinstance(levels, list)
            and isinstance(codes, list)
            and len(codes) == n
            and all(isinstance(c, int) and 0 <= c < len(levels) for c in codes)
        ):
            return [str(levels[c]) for c in codes]
    return [""] * n


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _expanded(columns: list[Any], n: int) -> np.ndarray | None:
    out = np.empty((n, len(columns)))
    for j, column in enumerate(columns):
        if _is_number(column) or (isinstance(column, list) and len(column) == n):
            out[:, j] = column
        elif isinstance(column, dict):
            levels, codes = column.get("levels"), column.get("codes")
            if not (isinstance(levels, list) and isinstance(codes, list) and len(codes) == n):
                return None
            index = np.asarray(codes, dtype=np.int64)
            if index.size and (index.min() < 0 or index.max() >= len(levels)):
                return None
            out[:, j] = np.asarray(levels, dtype=float)[index]
        else:
            return None
    return out


def logged_rows(log: Any) -> tuple[list[str], list[str], list[list[float]]] | None:
    """(refs, keys, one row of values per candidate) of a logged candidate set in either form;
    None when it is not one (absent, or malformed)."""
    if not isinstance(log, dict):
        return None
    refs, keys = log.get("refs"), log.get("keys")
    if not (isinstance(refs, list) and isinstance(keys, list)):
        return None
    columns = log.get("columns")
    if isinstance(columns, list) and len(columns) == len(keys):
        try:
            matrix = _expanded(columns, len(refs))
        except (TypeError, ValueError):
            return None
        if matrix is None:
            return None
        return [str(r) for r in refs], [str(k) for k in keys], matrix.tolist()
    values = log.get("values")
    if not isinstance(values, list):
        return None
    return [str(r) for r in refs], [str(k) for k in keys], values
