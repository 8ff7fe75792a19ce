"""A simulated person's life before day one: the completions their task app already holds.

Real people arrive at oO with weeks of history in the app they already use; the recommender
reads it (recommender/habits.py), so simulated people need one too, and it must come from the
same person: over `PAST_DAYS` days they open their app at the hours of their rhythm, look at
what is open, and finish one thing now and then — the thing drawn in proportion to the rule
judge's odds of "done" (the persona's priority, due-date, overdue, project × time terms), and
finished with that probability. Which projects they finish, when, and how late is therefore
evidence of their persona, exactly as strong as a few weeks of real behaviour, no stronger.

Deterministic per (seed, person) and independent of every policy (a stream of its own); cached,
since every policy of a run meets the same people.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import numpy as np

from backend.integrations.taskgen import generate_tasks
from backend.recommender.habits import Completion
from backend.recommender.policies.base import draw
from backend.simulation.judges import Moment, Situation, done_logit, moment
from backend.simulation.personas import Persona

PAST_DAYS = 42
"""Days of history before day one (six weeks; the recommender reads 45)."""

_STREAM_PAST = 5
_CACHE_LIMIT = 5_000
"""People whose past is kept (a worker runs many simulations; the cache must not grow for ever)."""
_cache: dict[tuple[str, int, int], tuple[Completion, ...]] = {}


class _Open:
    """A task of the past, while it is open."""

    __slots__ = ("added", "due", "priority", "project", "recur", "ref")

    def __init__(
        self, ref: str, project: str, priority: int, due: date | None, recur: int, added: datetime
    ) -> None:
        self.ref = ref
        self.project = project
        self.priority = priority
        self.due = due
        self.recur = recur
        self.added = added


def past_completions(
    persona: Persona, seed: int, user: int, start: datetime, projects: list[str]
) -> tuple[Completion, ...]:
    """The person's completions over the `PAST_DAYS` days before `start` (local midnight)."""
    key = (persona.id, seed, user)
    if key not in _cache:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = _simulate_past(persona, seed, user, start, projects)
    return _cache[key]


def _simulate_past(
    persona: Persona, seed: int, user: int, start: datetime, projects: list[str]
) -> tuple[Completion, ...]:
    g = np.random.default_rng([seed & 0xFFFFFFFF, user, _STREAM_PAST])
    rng = random.Random(int(g.integers(2**32)))
    begin = start - timedelta(days=PAST_DAYS)
    low, high = persona.task_count
    first = generate_tasks(
        rng,
        begin + timedelta(hours=12),
        count=rng.randint(low, high),
        projects=projects,
        overdue=persona.overdue,
    )
    open_tasks = [
        _Open(f"past:{user}:{i}", t.project, t.priority, t.due_date, t.recur_days, t.added_at)
        for i, t in enumerate(first)
    ]
    made = len(open_tasks)
    done: list[Completion] = []
    for day in range(PAST_DAYS):
        local_day = begin + timedelta(days=day)
        arriving = generate_tasks(
            rng,
            local_day + timedelta(hours=12),
            count=int(g.poisson(persona.arrivals)) or 1,
            projects=projects,
            overdue=False,
        )
        for t in arriving:
            ref, added = f"past:{user}:{made}", local_day
            open_tasks.append(_Open(ref, t.project, t.priority, t.due_date, t.recur_days, added))
            made += 1
        weekend = local_day.weekday() >= 5
        sessions = int(g.poisson(persona.sessions_weekend if weekend else persona.sessions_weekday))
        hours = sorted(
            int(h)
            for h in g.choice(24, size=sessions, p=persona.hour_odds(weekend, local_day.date()))
        )
        for hour in hours:
            at = local_day + timedelta(hours=hour, minutes=int(g.integers(60)))
            if not open_tasks:
                break
            m = moment(persona, at)
            logits = np.array([done_logit(_situation(m, t, at)) for t in open_tasks])
            i = draw(g, np.exp(logits - logits.max()))  # in proportion to the odds of "done"
            if g.random() < 1.0 / (1.0 + math.exp(-logits[i])):
                task = open_tasks[i]
                done.append(
                    Completion(
                        at=at,
                        project=task.project,
                        due_date=task.due,
                        item_ref=task.ref,
                        priority=task.priority,
                        added_at=task.added,
                        recurring=task.recur > 0,
                    )
                )
                if task.recur > 0 and task.due is not None:
                    task.due = at.date() + timedelta(days=task.recur)
                else:
                    open_tasks.pop(i)
    return tuple(done)


def _situation(m: Moment, t: _Open, at: datetime) -> Situation:
    due = t.due
    return Situation(
        moment=m,
        project=t.project,
        content="",
        priority=t.priority,
        days_to_due=(due - at.date()).days if due is not None else None,
        age_days=max((at - t.added).total_seconds() / 86400, 0.0),
        recurring=t.recur > 0,
        exposure=0.0,
    )
