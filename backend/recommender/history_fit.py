"""Fit a person's own choice model (choice_model.py) on their task app's history (pure).

A completion is a choice: at that moment the person finished this task rather than the others
open then. The history does not list the open tasks of the past, but it knows each completed
task's life — added at `added_at` (or, for a recurring task, back open at its previous
completion) and gone at its completion — so the open set at each past completion is rebuilt as
every completed task alive at that moment, each with its priority, its due date then (a
completion reports the due date it was completed under), its age and its project. Tasks never
completed are unknown to the history and left out: the fit learns what the person finishes
*first* among the things they finish. A completion made through one of oO's tips (answered
done: `Completion.prompted`) is no choice of the person's; it is only an alternative while
its task was open.

The model is a conditional logit, P(k chosen) ∝ exp(βᵀz_k), with a Gaussian prior β ~ N(0, σ²)
per weight (TERM_SD, PROJECT_SD); the posterior mode is found by Newton's method (the
log-posterior is strictly concave). The prior is what shrinks the fit by how much history
there is: with a handful of completions β stays near 0 (no opinion), with months of them it is
the person's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from backend.recommender.choice_model import (
    SLOTS,
    TERMS,
    ChoiceModel,
    slot_vector,
    task_term_columns,
)
from backend.recommender.habits import Completion

TERM_SD = 1.0
"""Prior standard deviation of a task term's weight (logit units: 1 moves the odds e-fold)."""

PROJECT_SD = 0.3
"""Prior standard deviation of a project × moment weight: there are many (7 per project) and
each rests on few completions. Chosen on the histories alone (fit on one simulated past, the
log-likelihood of another past of the same persona): 0.3 gained 0.122 nats per choice over no
model, 0.5 0.111, 1.0 0.084."""

MIN_CHOICES = 5
"""Below this many completions with an alternative, no model (None)."""

PROMPT_WINDOW = timedelta(days=1)
"""A tip answered done closes its task at the source within seconds of the answer (after an
outage, when the outbox drains); a completion of that task later than this was the person's."""

CLOCK_SKEW = timedelta(minutes=5)
"""The source's clock may run a little behind ours: a completion this much before the answer
still belongs to it."""

MAX_ITERATIONS = 30
MAX_STEP = 2.0
"""Newton steps are capped at this length (a guard on the first steps; the optimum is unique)."""


def _timezone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None


def _design(
    done: Sequence[Completion], tz: ZoneInfo | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
    """Rows (one per task alive at a completion), each choice's first row and chosen row, and
    the projects; None when fewer than MIN_CHOICES completions had an alternative."""
    end = np.array([c.at.timestamp() for c in done])
    start = end.copy()  # unknown start: only a candidate at its own completion
    last_of: dict[str, float] = {}
    for i, c in enumerate(done):
        previous = last_of.get(c.item_ref) if c.item_ref else None
        if previous is not None:
            start[i] = previous  # a recurring task is back open from its previous completion
        elif c.added_at is not None:
            start[i] = min(c.added_at.timestamp(), end[i])
        if c.item_ref:
            last_of[c.item_ref] = end[i]
    alive = (start[None, :] <= end[:, None]) & (end[None, :] >= end[:, None])
    np.fill_diagonal(alive, True)
    sizes = alive.sum(axis=1)
    # A completion through a tip is oO's pick, not the person's: counted as their choice it
    # would teach the model whatever the policy already serves. Its task still was open, so
    # it stays an alternative of the others' choices.
    own = np.array([not c.prompted for c in done], dtype=bool)
    choices = np.flatnonzero((sizes >= 2) & own)
    if choices.size < MIN_CHOICES:
        return None
    k_of, j_of = np.nonzero(alive[choices])
    k_at = choices[k_of]  # the completion each row belongs to
    locals_ = [c.at.astimezone(tz) if tz else c.at for c in done]
    day = np.array([t.date().toordinal() for t in locals_])
    slots = np.array([slot_vector(t) for t in locals_])
    due = np.array([c.due_date.toordinal() if c.due_date else 0 for c in done])
    has_due = np.array([c.due_date is not None for c in done])
    added = np.array([c.added_at.timestamp() if c.added_at else np.nan for c in done])
    age = np.where(np.isnan(added[j_of]), 0.0, (end[k_at] - added[j_of]) / 86400)
    terms = task_term_columns(
        np.array([float(c.priority) for c in done])[j_of],
        has_due[j_of],
        due[j_of] - day[k_at],
        age,
        np.array([c.recurring for c in done])[j_of],
        slots[k_at, -1] > 0.5,
    )
    projects = sorted({c.project for c in done})
    index = {p: i for i, p in enumerate(projects)}
    project = np.array([index[c.project] for c in done])[j_of]
    width = len(SLOTS)
    pulls = np.zeros((k_of.shape[0], width * len(projects)))
    rows = np.arange(k_of.shape[0])
    for s in range(width):
        pulls[rows, project * width + s] = slots[k_at, s]
    Z = np.hstack([terms, pulls])
    first = np.concatenate([[0], np.cumsum(sizes[choices])[:-1]])
    chosen = np.flatnonzero(j_of == k_at)
    return Z, first, chosen, projects


def _mode(Z: np.ndarray, first: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The posterior mode of β (Newton's method on the log-posterior)."""
    d = Z.shape[1]
    beta = np.zeros(d)
    sd = np.full(d, PROJECT_SD)
    sd[: len(TERMS)] = TERM_SD
    precision = np.diag(1.0 / sd**2)
    z_chosen = Z[chosen].sum(axis=0)
    for _ in range(MAX_ITERATIONS):
        u = Z @ beta
        top = np.maximum.reduceat(u, first)
        seg = np.repeat(np.arange(first.shape[0]), np.diff(np.append(first, u.shape[0])))
        e = np.exp(u - top[seg])
        p = e / np.add.reduceat(e, first)[seg]
        mean = np.add.reduceat(Z * p[:, None], first)
        grad = z_chosen - mean.sum(axis=0) - precision @ beta
        hessian = (Z * p[:, None]).T @ Z - mean.T @ mean + precision
        step = np.linalg.solve(hessian, grad)
        length = float(np.linalg.norm(step))
        if length > MAX_STEP:
            step *= MAX_STEP / length
        beta += step
        if length < 1e-6:
            break
    return beta


def fit_choices(completions: Sequence[Completion], timezone: str) -> ChoiceModel | None:
    """The person's choice model from their completions (any order), or None when the history
    holds fewer than MIN_CHOICES completions made with another completed task still open."""
    done = sorted(completions, key=lambda c: c.at)
    design = _design(done, _timezone(timezone))
    if design is None:
        return None
    Z, first, chosen, projects = design
    beta = _mode(Z, first, chosen)
    width, k = len(SLOTS), len(TERMS)
    by_project = {
        p: tuple(round(float(w), 6) for w in beta[k + i * width : k + (i + 1) * width])
        for i, p in enumerate(projects)
    }
    weights = tuple(round(float(w), 6) for w in beta[:k])
    return ChoiceModel(n=int(first.shape[0]), weights=weights, projects=by_project)


def mark_prompted(
    completions: Sequence[Completion], tips_done: Iterable[tuple[str, datetime]]
) -> list[Completion]:
    """The completions (oldest first) with those made through a tip marked `prompted`: for each
    tip answered done (its item ref and when), the first completion of that task from
    CLOCK_SKEW before the answer to PROMPT_WINDOW after it. A recurring task's later
    completions stay the person's own."""
    done = sorted(completions, key=lambda c: c.at)
    by_ref: dict[str, list[int]] = {}
    for i, c in enumerate(done):
        if c.item_ref:
            by_ref.setdefault(c.item_ref, []).append(i)
    marked: set[int] = set()
    for ref, answered in sorted(tips_done, key=lambda t: t[1]):
        for i in by_ref.get(ref, ()):
            at = done[i].at
            if i not in marked and answered - CLOCK_SKEW <= at <= answered + PROMPT_WINDOW:
                marked.add(i)
                break
    return [replace(c, prompted=True) if i in marked else c for i, c in enumerate(done)]


def utility_now(model: ChoiceModel, completion: Completion, at: datetime, tz: str) -> float:
    """The model's utility of a (completed) task at another moment (tests, diagnostics)."""
    zone = _timezone(tz)
    local = at.astimezone(zone) if zone else at
    days = (completion.due_date - local.date()).days if completion.due_date else None
    age = (at - completion.added_at).total_seconds() / 86400 if completion.added_at else 0.0
    return model.utility(
        completion.project, completion.priority, days, age, completion.recurring, local
    )
