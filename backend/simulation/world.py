"""One simulated person's world: their tasks over time, when they open the app, what is hidden.

Reproducible and shared by every policy of a run: everything that does not depend on what a
policy served — the initial tasks, new tasks arriving, when sessions happen, which tasks the
person finishes outside the app on a given day — is drawn from random streams keyed by
(seed, user, day), never from one stream consumed in an order a policy could change. Two
policies therefore face the same person on the same days; they differ only in what was served
and how it was answered (common random numbers: differences between policies are less noisy).

Tasks come from the task generator shared with the demo source (integrations/taskgen.py).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from backend.contracts.candidate import Candidate
from backend.integrations.taskgen import estimated_minutes, generate_tasks
from backend.recommender.choice_model import ChoiceModel
from backend.recommender.habits import HABIT_DAYS, Completion, Habits
from backend.recommender.history import HISTORY_DAYS, HISTORY_LIMIT
from backend.recommender.history_fit import fit_choices
from backend.simulation.past import past_completions
from backend.simulation.personas import Persona

SNOOZE_S = 3 * 3600
"""A snoozed item comes back after this long (the service's default OO_SNOOZE)."""

DISMISS_S = 24 * 3600
"""A dismissed item comes back after this long (the service's default OO_DISMISS)."""

FATIGUE_HOURS = 72.0
"""A push that was not done weighs e^(−age / 72 h) in the person's fatigue with that item."""

TIP_GAP = timedelta(minutes=2)
"""Tips within one session are this far apart (fixed, so the schedule is policy-independent)."""

ARRIVAL_DAYS = 150
"""Tasks arriving later are generated up front for this many days (more than any run needs)."""

START = date(2026, 3, 2)
"""Day one of every simulated world (a Monday), local to the persona."""

_STREAM_SCHEDULE, _STREAM_BACKGROUND, _STREAM_TASKS = 1, 2, 3


def stream(seed: int, user: int, *keys: int) -> np.random.Generator:
    """An independent random stream for (seed, user, keys…)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, user, *keys])


@dataclass
class SimTask:
    """A task in the simulated person's app (mutable: it gets done, recurs, is hidden)."""

    index: int
    ref: str
    project: str
    content: str
    priority: int
    due: date | None
    recur_days: int
    added_at: datetime
    arrive_at: datetime
    done: bool = False
    hidden_until: datetime | None = None
    pushes: list[datetime] = field(default_factory=list)
    """When it was served and not done (fatigue)."""

    def candidate(self) -> Candidate:
        """The task as the recommender sees it."""
        return Candidate(
            item_ref=self.ref,
            source="sim",
            kind="task",
            content=self.content,
            priority=self.priority,
            due_date=self.due,
            added_at=self.added_at,
            project=self.project,
            is_recurring=self.recur_days > 0,
            duration_min=estimated_minutes(self.content),
        )


def _task(
    index: int,
    project: str,
    content: str,
    priority: int,
    due: date | None,
    recur_days: int,
    added_at: datetime,
    arrive_at: datetime,
) -> SimTask:
    return SimTask(index, "", project, content, priority, due, recur_days, added_at, arrive_at)


class World:
    """The simulated person's tasks, schedule and decision log (see module docstring)."""

    def __init__(self, persona: Persona, seed: int, user: int) -> None:
        self.persona = persona
        self.seed = seed
        self.user = user
        self.tz = ZoneInfo(persona.timezone)
        self.start = datetime.combine(START, time(0), self.tz)
        self.tasks = self._generate_tasks()
        # Tasks in arrival order; `active` holds those arrived and not done (kept up to date
        # rather than filtered from every generated task at every decision).
        self.active: list[SimTask] = []
        self._arrived = 0
        self.rows: list[dict[str, Any]] = []
        self._day = -1  # last local day whose sessions are scheduled
        self._closed_day = -1  # last local day whose end (background completion) was applied
        self._queue: list[datetime] = []
        projects = sorted({t.project for t in self.tasks})
        # What their task app already holds on day one (past.py), then every completion since.
        self.completions: list[Completion] = list(
            past_completions(persona, seed, user, self.start, projects)
        )
        self._habits: tuple[int, int, Habits] | None = None
        self._choice: tuple[int, ChoiceModel | None] | None = None

    def _generate_tasks(self) -> list[SimTask]:
        rng = random.Random(int(stream(self.seed, self.user, _STREAM_TASKS).integers(2**32)))
        low, high = self.persona.task_count
        initial = rng.randint(low, high)
        arriving = math.ceil(self.persona.arrivals * ARRIVAL_DAYS) + 10
        # Local noon of day one: the generator's "today" is the person's, whatever their zone.
        noon = self.start + timedelta(hours=12)
        now = self.start.astimezone(UTC)
        first = generate_tasks(rng, noon, count=initial, overdue=self.persona.overdue)
        projects = sorted({t.project for t in first})
        later = generate_tasks(rng, noon, count=arriving, projects=projects, overdue=False)
        rng.shuffle(later)
        arrivals = self._arrival_times(len(later))
        tasks: list[SimTask] = []
        for i, t in enumerate(first):
            added = min(t.added_at.astimezone(UTC), now)
            tasks.append(
                _task(i, t.project, t.content, t.priority, t.due_date, t.recur_days, added, now)
            )
        for j, (t, at) in enumerate(zip(later, arrivals, strict=False)):
            # Dates are relative to day one; a task arriving on day d keeps its offset from d.
            due = None if t.due_date is None else at.date() + (t.due_date - START)
            arrived = at.astimezone(UTC)
            tasks.append(
                _task(
                    initial + j,
                    t.project,
                    t.content,
                    t.priority,
                    due,
                    t.recur_days,
                    arrived,
                    arrived,
                )
            )
        for task in tasks:
            task.ref = f"sim:{self.user}:{task.index}"
        return tasks

    def _arrival_times(self, limit: int) -> list[datetime]:
        rng = stream(self.seed, self.user, _STREAM_TASKS, 1)
        times: list[datetime] = []
        for day in range(ARRIVAL_DAYS):
            for _ in range(int(rng.poisson(self.persona.arrivals))):
                minute = int(rng.integers(7 * 60, 22 * 60))
                times.append(self.start + timedelta(days=day, minutes=minute))
        return sorted(times)[:limit]

    # -- time ------------------------------------------------------------------------------

    def _schedule_day(self, day: int) -> list[datetime]:
        """Decision times of one local day: sessions from the rhythm, tips within sessions."""
        rng = stream(self.seed, self.user, _STREAM_SCHEDULE, day)
        local_day = self.start + timedelta(days=day)
        weekend = local_day.weekday() >= 5
        p = self.persona
        mean = p.sessions_weekend if weekend else p.sessions_weekday
        odds = p.hour_odds(weekend, local_day.date())
        times: list[datetime] = []
        for _ in range(int(rng.poisson(mean))):
            hour = int(rng.choice(24, p=odds))
            at = local_day + timedelta(hours=hour, minutes=int(rng.integers(60)))
            tips = 1 + int(rng.poisson(p.tips_per_session - 1.0))
            times.extend(at + k * TIP_GAP for k in range(tips))
        return sorted(times)

    def next_time(self) -> datetime:
        """The next moment the person opens the app (local time), in order."""
        while not self._queue:
            self._day += 1
            self._queue = self._schedule_day(self._day)
        return self._queue.pop(0)

    def day_of(self, at: datetime) -> int:
        """Local day number of a moment (day one is 0)."""
        return (at.astimezone(self.tz).date() - START).days

    def advance(self, now: datetime) -> None:
        """Apply the end of every local day before `now`: what the person did outside the app."""
        today = self.day_of(now)
        while self._closed_day < today - 1:
            self._closed_day += 1
            self._close_day(self._closed_day)

    def _arrive(self, until: datetime) -> None:
        while self._arrived < len(self.tasks) and self.tasks[self._arrived].arrive_at <= until:
            self.active.append(self.tasks[self._arrived])
            self._arrived += 1

    def _close_day(self, day: int) -> None:
        g = stream(self.seed, self.user, _STREAM_BACKGROUND, day)
        draws = g.random(len(self.tasks))
        end = self.start + timedelta(days=day + 1)
        self._arrive(end - timedelta(microseconds=1))
        local_day = self.start + timedelta(days=day)
        local = local_day.date()
        odds = self.persona.hour_odds(local.weekday() >= 5, local)
        for task in list(self.active):
            due_now = task.due is not None and task.due <= local
            if draws[task.index] < (self.persona.keep_up if due_now else self.persona.background):
                # Done outside oO, at an hour of their rhythm (the app records when).
                hour = int(g.choice(24, p=odds))
                self._finish(task, local, local_day + timedelta(hours=hour))

    def habits(self, now: datetime) -> Habits:
        """The person's completion habits over the last HABIT_DAYS (recounted on change)."""
        day = self.day_of(now)
        if self._habits is None or self._habits[:2] != (len(self.completions), day):
            since = now - timedelta(days=HABIT_DAYS)
            recent = [c for c in self.completions if since <= c.at <= now]
            if self._choice is None or self._choice[0] != day:
                # The choice model is refitted once a day (the service refits when its cached
                # habits expire); a fit costs milliseconds, a recount microseconds.
                self._choice = (day, fit_choices(recent, self.persona.timezone))
            habits = Habits.from_completions(recent, self.persona.timezone)
            self._habits = (len(self.completions), day, replace(habits, choice=self._choice[1]))
        return self._habits[2]

    def _finish(self, task: SimTask, on: date, at: datetime, prompted: bool = False) -> None:
        """Done: gone, or (recurring) back with its next due date after `on`, as Todoist does.
        `prompted`: done through a tip (the service knows it from its decision log)."""
        self.completions.append(
            Completion(
                at=at,
                project=task.project,
                due_date=task.due,
                item_ref=task.ref,
                priority=task.priority,
                added_at=task.added_at,
                recurring=task.recur_days > 0,
                prompted=prompted,
            )
        )
        if task.recur_days > 0:
            nxt = task.due or on
            while nxt <= on:
                nxt += timedelta(days=task.recur_days)
            task.due = nxt
            task.pushes.clear()
        else:
            task.done = True
            self.active.remove(task)

    # -- decisions -------------------------------------------------------------------------

    def open_tasks(self, now: datetime) -> list[SimTask]:
        """Tasks that could be served now: arrived, not done, not hidden."""
        self._arrive(now)
        return [t for t in self.active if t.hidden_until is None or t.hidden_until <= now]

    def history_rows(self, now: datetime) -> list[dict[str, Any]]:
        """The recent decision log, as the service reads it for history features."""
        since = now - timedelta(days=HISTORY_DAYS)
        recent = [r for r in self.rows[-HISTORY_LIMIT:] if r["served_at"] > since]
        return list(reversed(recent))

    def exposure(self, task: SimTask, now: datetime) -> float:
        """Recency-weighted count of earlier pushes of this task that were not done."""
        return sum(
            math.exp(-(now - at).total_seconds() / 3600 / FATIGUE_HOURS) for at in task.pushes
        )

    def apply(self, task: SimTask, action: str, now: datetime, dwell_ms: int) -> None:
        """The person's reaction changes the world as the service would."""
        reacted = now + timedelta(milliseconds=dwell_ms)
        self.rows.append(
            {
                "item_ref": task.ref,
                "project": task.project,
                "served_at": now,
                "reaction": action,
                "reacted_at": reacted,
            }
        )
        if action == "done":
            self._finish(task, now.astimezone(self.tz).date(), reacted, prompted=True)
        else:
            task.pushes.append(now)
            task.hidden_until = reacted + timedelta(
                seconds=SNOOZE_S if action == "snooze" else DISMISS_S
            )

    def has_overdue(self, now: datetime) -> bool:
        """Whether the person has at least one overdue task now (hidden ones count)."""
        self._arrive(now)
        today = now.astimezone(self.tz).date()
        return any(t.due is not None and t.due < today for t in self.active)
