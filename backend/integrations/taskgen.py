"""A generator of realistic synthetic tasks, shared by the demo source and the simulator.

Tasks come in 3–5 projects with believable titles, priorities 1–4 (4 = urgent, as Todoist),
due dates in the past (overdue), today, the coming weeks or none, and some recurring.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

PROJECT_TASKS: dict[str, list[str]] = {
    "Work": [
        "Reply to Maya about the Q3 roadmap",
        "Review the pull request on the billing service",
        "Prepare slides for Thursday's demo",
        "Write the incident summary for last Friday",
        "Book a 1:1 with the new designer",
        "Update the onboarding doc with the VPN steps",
        "Send the contract draft to legal",
        "Clean up the stale feature flags",
        "Plan next sprint's priorities",
        "Answer the recruiter's email about the backend role",
    ],
    "Home": [
        "Call the plumber about the kitchen tap",
        "Take the recycling out",
        "Order a new filter for the water jug",
        "Fix the wobbly chair in the hallway",
        "Change the bed sheets",
        "Water the plants on the balcony",
        "Descale the kettle",
        "Sort the pile of post on the desk",
    ],
    "Health": [
        "Book the dentist check-up",
        "Go for a 30-minute run",
        "Refill the prescription at the pharmacy",
        "Stretch for ten minutes before bed",
        "Schedule the eye test",
        "Prepare lunches for the week",
    ],
    "Errands": [
        "Return the parcel to the post office",
        "Buy a birthday present for Sam",
        "Renew the car insurance",
        "Pick up the dry cleaning",
        "Get spare keys cut",
        "Pay the electricity bill",
    ],
    "Learning": [
        "Read a chapter of 'Designing Data-Intensive Applications'",
        "Practise Spanish for 15 minutes",
        "Watch the talk on query planners",
        "Finish the SQL window functions exercise",
        "Write notes on the book club chapter",
    ],
    "Finance": [
        "File the expense report for the conference",
        "Check the pension contribution",
        "Cancel the unused streaming subscription",
        "Move savings into the ISA",
        "Review last month's bank statement",
    ],
}
RECURRING_DAYS = (1, 7, 30)

MINUTES: dict[str, int] = {
    # Work
    "Reply to Maya about the Q3 roadmap": 15,
    "Review the pull request on the billing service": 45,
    "Prepare slides for Thursday's demo": 120,
    "Write the incident summary for last Friday": 60,
    "Book a 1:1 with the new designer": 5,
    "Update the onboarding doc with the VPN steps": 30,
    "Send the contract draft to legal": 5,
    "Clean up the stale feature flags": 90,
    "Plan next sprint's priorities": 60,
    "Answer the recruiter's email about the backend role": 10,
    # Home
    "Call the plumber about the kitchen tap": 10,
    "Take the recycling out": 5,
    "Order a new filter for the water jug": 5,
    "Fix the wobbly chair in the hallway": 45,
    "Change the bed sheets": 15,
    "Water the plants on the balcony": 5,
    "Descale the kettle": 20,
    "Sort the pile of post on the desk": 30,
    # Health
    "Book the dentist check-up": 5,
    "Go for a 30-minute run": 40,
    "Refill the prescription at the pharmacy": 30,
    "Stretch for ten minutes before bed": 10,
    "Schedule the eye test": 5,
    "Prepare lunches for the week": 90,
    # Errands
    "Return the parcel to the post office": 30,
    "Buy a birthday present for Sam": 60,
    "Renew the car insurance": 45,
    "Pick up the dry cleaning": 20,
    "Get spare keys cut": 30,
    "Pay the electricity bill": 5,
    # Learning
    "Read a chapter of 'Designing Data-Intensive Applications'": 60,
    "Practise Spanish for 15 minutes": 15,
    "Watch the talk on query planners": 50,
    "Finish the SQL window functions exercise": 40,
    "Write notes on the book club chapter": 30,
    # Finance
    "File the expense report for the conference": 30,
    "Check the pension contribution": 10,
    "Cancel the unused streaming subscription": 5,
    "Move savings into the ISA": 10,
    "Review last month's bank statement": 20,
}
"""Estimated minutes per title (a lookup, not a random draw: adding durations left every
existing generated world — and every measured figure — unchanged)."""

DEFAULT_MINUTES = 30


def estimated_minutes(content: str) -> int:
    """How long a generated task takes; follow-ups take as long as the original."""
    return MINUTES.get(content.split(" (follow-up")[0], DEFAULT_MINUTES)


@dataclass(frozen=True)
class GeneratedTask:
    """A synthetic task, independent of where it is stored."""

    project: str
    content: str
    priority: int
    due_date: date | None
    recur_days: int
    added_at: datetime


def generate_tasks(
    rng: random.Random,
    now: datetime,
    count: int | None = None,
    *,
    projects: Sequence[str] | None = None,
    overdue: bool = True,
) -> list[GeneratedTask]:
    """20–40 tasks (or `count`) across 3–5 projects; some overdue, due today, recurring.

    `projects` fixes the projects (the simulator's tasks arriving later belong to the same
    person's projects); `overdue=False` moves the past-due share into the coming weeks, for
    people who keep up (about 30% have no overdue task at all). Defaults give the demo's mix.
    """
    n_projects = rng.randint(3, 5)
    if projects is None:
        projects = rng.sample(sorted(PROJECT_TASKS), n_projects)
    total = count if count is not None else rng.randint(20, 40)
    pool = [(p, title) for p in projects for title in PROJECT_TASKS[p]]
    rng.shuffle(pool)
    base = list(pool)
    repeats: dict[str, int] = {}
    while len(pool) < total:  # small project mixes: repeat a title as a numbered follow-up
        p, title = rng.choice(base)
        repeats[title] = n = repeats.get(title, 0) + 1
        pool.append((p, f"{title} (follow-up)" if n == 1 else f"{title} (follow-up {n})"))
    today = now.date()
    tasks: list[GeneratedTask] = []
    for i, (project, content) in enumerate(pool[:total]):
        # A fixed share of each kind so every demo has overdue, today and recurring tasks.
        slot = i % 10
        if slot in (0, 1, 2):
            days = rng.randint(1, 21)
            due: date | None = today + timedelta(days=-days if overdue else days)
        elif slot in (3, 4):
            due = today
        elif slot in (5, 6, 7):
            due = today + timedelta(days=rng.randint(1, 30))
        else:
            due = None
        recur = rng.choice(RECURRING_DAYS) if slot in (4, 7) else 0
        priority = rng.choices((1, 2, 3, 4), weights=(45, 25, 20, 10))[0]
        added = now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
        tasks.append(GeneratedTask(project, content, priority, due, recur, added))
    return tasks
