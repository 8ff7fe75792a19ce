"""The person's choice model fitted on their completions (history_fit.py): it recovers the
weights a synthetic history was drawn with, says nothing on a short history, and reads the same
from one candidate as from a column of them."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from backend.recommender.choice_model import (
    SLOTS,
    TERMS,
    ChoiceModel,
    slot_vector,
    task_term_columns,
    task_terms,
)
from backend.recommender.habits import Completion
from backend.recommender.history_fit import fit_choices, mark_prompted, utility_now

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
TRUE = {
    "priority": 1.6,
    "priority_month_end": 0.0,
    "stale": -0.8,
    "overdue": 1.0,
    "overdue_days": 0.5,
    "due_today": 1.4,
    "due_soon": 0.4,
    "recurring": 0.0,
}
PROJECTS = {"Work": {"base": 0.9, "evening": -1.2}, "Home": {"evening": 0.6}, "Errands": {}}


class _Task:
    def __init__(
        self, ref: str, project: str, priority: int, due: date | None, added: datetime | None
    ) -> None:
        assert added is not None
        self.ref, self.project, self.priority, self.due, self.added = (
            ref,
            project,
            priority,
            due,
            added,
        )


def _true_utility(task: _Task, at: datetime) -> float:
    days = (task.due - at.date()).days if task.due else None
    terms = task_terms(task.priority, days, (at - task.added).total_seconds() / 86400, False, False)
    u = sum(TRUE[name] * value for name, value in zip(TERMS, terms, strict=True))
    slots = dict(zip(SLOTS, slot_vector(at), strict=True))
    return u + sum(w * slots[s] for s, w in PROJECTS[task.project].items())


def _history(seed: int, days: int = 70) -> list[Completion]:
    """A person with a backlog who, three to five times a day, finishes one open task drawn in proportion to
    exp(their utility); tasks stop arriving 10 days before the end, so every task gets done and
    the open sets rebuilt from the history are the true ones."""
    rng = np.random.default_rng(seed)
    open_tasks: list[_Task] = []
    done: list[Completion] = []
    made = 0
    for day in range(days):
        midnight = START + timedelta(days=day)
        arriving = 15 if day == 0 else 3 if day < days - 10 else 0  # a backlog, then 3 a day
        for _ in range(arriving):
            due = None
            if rng.random() < 0.6:
                due = (midnight + timedelta(days=int(rng.integers(-2, 8)))).date()
            project = str(rng.choice(list(PROJECTS)))
            added = midnight + timedelta(hours=float(rng.uniform(6, 9)))
            if day == 0:  # the backlog: captured over the last year
                added -= timedelta(days=float(rng.uniform(0, 365)))
            open_tasks.append(_Task(f"t{made}", project, int(rng.integers(1, 5)), due, added))
            made += 1
        for hour in sorted(rng.choice(np.arange(9, 23), size=int(rng.integers(3, 6)))):
            at = midnight + timedelta(hours=int(hour), minutes=int(rng.integers(60)))
            alive = [t for t in open_tasks if t.added <= at]
            if not alive:
                continue
            u = np.array([_true_utility(t, at) for t in alive])
            p = np.exp(u - u.max())
            task = alive[int(rng.choice(len(alive), p=p / p.sum()))]
            open_tasks.remove(task)
            done.append(
                Completion(at, task.project, task.due, task.ref, task.priority, task.added, False)
            )
    return done


def test_the_fit_recovers_the_weights_the_history_was_drawn_with() -> None:
    done = _history(seed=1)
    assert len(done) == 15 + 3 * 59  # every task got done
    model = fit_choices(list(reversed(done)), "UTC")  # any order
    assert model is not None
    assert model.n >= 120
    fitted = dict(zip(TERMS, model.weights, strict=True))
    for name in ("priority", "overdue", "due_today"):
        assert fitted[name] == pytest.approx(TRUE[name], abs=0.45), name
    assert fitted["stale"] < 0.0
    # Projects are identified up to a shift, and their many terms are shrunk hard (PROJECT_SD):
    # their signs. Work leads Errands in the morning; Work falls in the evening, Home rises.
    morning = slot_vector(START + timedelta(hours=9))
    evening = slot_vector(START + timedelta(hours=19))
    assert model.project_pull("Work", morning) > model.project_pull("Errands", morning) + 0.15
    for project, sign in (("Work", -1.0), ("Home", 1.0)):
        change = model.project_pull(project, evening) - model.project_pull(project, morning)
        assert sign * change > 0.05, project


def _log_p_first(u: np.ndarray) -> float:
    return float(u[0] - (u.max() + math.log(float(np.exp(u - u.max()).sum()))))


def test_the_fit_predicts_another_history_of_the_same_person_better_than_chance() -> None:
    model = fit_choices(_history(seed=2), "UTC")
    assert model is not None
    fresh = _history(seed=3)
    fitted = true = 0.0
    for k, c in enumerate(fresh):
        # The open set at that completion: every later completion already added.
        alive = [o for o in fresh[k:] if o.added_at is not None and o.added_at <= c.at]
        u = np.array([utility_now(model, o, c.at, "UTC") for o in alive])
        fitted += _log_p_first(u) + math.log(len(alive))
        tasks = [_Task(o.item_ref, o.project, o.priority, o.due_date, o.added_at) for o in alive]
        true += _log_p_first(np.array([_true_utility(t, c.at) for t in tasks]))
        true += math.log(len(alive))
    # Nats per choice over picking uniformly: much of what the true weights would gain.
    assert true / len(fresh) > 0.05
    assert fitted > 0.5 * true


def test_a_short_history_gives_no_model_and_unknown_starts_no_alternatives() -> None:
    done = _history(seed=4)
    assert fit_choices(done[:4], "UTC") is None
    # Without added dates (and no recurring refs) no completion had a known alternative.
    unknown = [Completion(c.at, c.project, c.due_date, c.item_ref) for c in done]
    assert fit_choices(unknown, "UTC") is None
    assert fit_choices([], "Not/A_Zone") is None


def test_a_recurring_task_is_open_again_from_its_previous_completion() -> None:
    """Completions of one recurring ref, each with an ordinary task completed in between: the
    recurring task is always among the alternatives after its first completion, and it is never
    chosen over them, so the fit learns against it."""
    done: list[Completion] = []
    for day in range(20):
        at = START + timedelta(days=day, hours=10)
        other_added = at - timedelta(hours=1)
        done.append(Completion(at, "Home", None, f"o{day}", 4, other_added, False))
        done.append(
            Completion(at + timedelta(hours=8), "Home", None, "r", 1, START, True)  # daily
        )
    model = fit_choices(done, "UTC")
    assert model is not None
    fitted = dict(zip(TERMS, model.weights, strict=True))
    # Each morning task beats the recurring one open since yesterday: priority and recurrence
    # cannot be told apart here, but their difference is clear.
    assert fitted["priority"] - fitted["recurring"] > 0.5


def test_one_candidate_and_a_column_give_the_same_utility() -> None:
    rng = np.random.default_rng(7)
    model = ChoiceModel(
        n=50,
        weights=tuple(rng.uniform(-1.5, 1.5, len(TERMS)).tolist()),
        projects={"Work": tuple(rng.uniform(-1, 1, len(SLOTS)).tolist())},
    )
    local = datetime(2026, 3, 28, 20, 30, tzinfo=UTC)  # a Saturday evening at month end
    today = local.date()
    priority = rng.integers(1, 5, 40).astype(float)
    has_due = rng.random(40) < 0.7
    to_due = rng.integers(-40, 10, 40)
    age = np.round(rng.uniform(0, 500, 40), 3)
    recurring = (rng.random(40) < 0.3).astype(float)
    projects = ["Work", "Home"]
    index = rng.integers(0, 2, 40)
    terms = task_term_columns(priority, has_due, to_due, age, recurring, True)
    column = model.utilities(projects, index, terms, local)
    for i in range(40):
        days = int(to_due[i]) if has_due[i] else None
        one = model.utility(
            projects[index[i]], priority[i], days, age[i], bool(recurring[i]), local
        )
        assert one == pytest.approx(column[i], abs=1e-12), i  # log1p may differ by an ulp
    assert (today - timedelta(days=1)).month == 3
    assert ChoiceModel().utility("Work", 4.0, 0, 1.0, False, local) == 0.0


def test_completions_through_tips_are_no_choice_of_the_person() -> None:
    """A policy that serves fresh low-priority errands, each answered done: counted as the
    person's choices they would turn the priority weight around; marked as the tips' they
    leave the fit exactly as the person's own history gives it."""
    own = _history(seed=1)
    tips, through_tips = [], []
    for k, c in enumerate(own[5:-20:2]):
        answered = c.at + timedelta(minutes=30)
        added = answered - timedelta(minutes=2)
        closed = answered + timedelta(seconds=3)  # the close at the source follows the answer
        through_tips.append(Completion(closed, "Errands", None, f"tip{k}", 1, added, False))
        tips.append((f"tip{k}", answered))
    both = own + through_tips

    marked = mark_prompted(both, tips)
    assert sum(c.prompted for c in marked) == len(tips)
    assert [c.at for c in marked] == sorted(c.at for c in both)
    kept, alone, unmarked = (fit_choices(h, "UTC") for h in (marked, own, both))
    assert kept is not None
    assert alone is not None
    assert unmarked is not None
    assert kept == alone
    assert dict(zip(TERMS, unmarked.weights, strict=True))["priority"] < 0.0
    assert dict(zip(TERMS, kept.weights, strict=True))["priority"] > 0.8


def test_a_tip_marks_only_the_first_completion_of_its_task_in_the_window() -> None:
    answered = START + timedelta(days=3, hours=10)
    done = [
        Completion(answered - timedelta(hours=2), "Home", None, "r", 1, START, True),  # before
        Completion(answered + timedelta(seconds=5), "Home", None, "r", 1, START, True),  # the tip's
        Completion(answered + timedelta(hours=9), "Home", None, "r", 1, START, True),  # own again
        Completion(answered + timedelta(seconds=5), "Home", None, "x", 1, START, False),  # other
        Completion(answered - timedelta(minutes=3), "Work", None, "skew", 1, START, False),
        Completion(answered + timedelta(days=2), "Work", None, "late", 1, START, False),
    ]
    marked = mark_prompted(done, [("r", answered), ("skew", answered), ("late", answered)])
    prompted = {(c.item_ref, c.at - answered) for c in marked if c.prompted}
    # "skew": the source's clock a few minutes behind still counts; "late": two days later the
    # person finished it themselves.
    assert prompted == {("r", timedelta(seconds=5)), ("skew", timedelta(minutes=-3))}
