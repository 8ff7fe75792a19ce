"""overdue-task: how late is "late" for this person, and which due dates are real.

- lateness_tolerance_days: the median (p50) lateness of completions that had a due date,
  in whole local days (early counts as 0).
- project_realness: per project with at least 3 such completions,
  (1 + global median lateness) / (1 + project median lateness). Above 1: that project's due
  dates are kept better than usual (real deadlines); below 1: they slip (soft dates).
"""

from __future__ import annotations

from collections import defaultdict

from agents.stats import median
from agents.types import AgentContext, History, Manifest, ParamSpec

MIN_PROJECT_SAMPLES = 3


def lateness(history: History) -> list[tuple[str, int]]:
    """(project, days late ≥ 0) of every completion with a due date."""
    return list(history.memo("overdue.lateness", lambda: _lateness(history)))


def _lateness(history: History) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for event, at in zip(history.done, history.local_done, strict=True):
        if event.due_date is not None:
            out.append((event.project, max(0, (at.date() - event.due_date).days)))
    return out


def infer_tolerance(history: History) -> float:
    """p50 lateness in days (0 when no completion had a due date)."""
    samples = [days for _, days in lateness(history)]
    return float(median(samples)) if samples else 0.0


def infer_realness(history: History) -> dict[str, float]:
    """Project median lateness against the global median."""
    samples = lateness(history)
    if not samples:
        return {}
    overall = median([d for _, d in samples])
    by_project: dict[str, list[int]] = defaultdict(list)
    for project, days in samples:
        by_project[project or "Inbox"].append(days)
    return {
        project: round((1 + overall) / (1 + median(days)), 2)
        for project, days in sorted(by_project.items())
        if len(days) >= MIN_PROJECT_SAMPLES
    }


async def compute(ctx: AgentContext) -> str:
    """The snippet: the tolerance, and which projects' dates are real or soft."""
    p = ctx.params
    tolerance = float(p["lateness_tolerance_days"])
    realness: dict[str, float] = dict(p["project_realness"] or {})
    real = [name for name, r in realness.items() if r > 1.2]
    soft = [name for name, r in realness.items() if r < 0.8]
    parts = [
        f"Overdue tasks: they usually finish things {tolerance:g} day"
        f"{'s' if tolerance != 1 else ''} after the due date"
    ]
    if real:
        parts.append(f"due dates in {', '.join(real)} are real — surface those when overdue")
    if soft:
        parts.append(f"due dates in {', '.join(soft)} are soft — slipping there is normal")
    return "; ".join(parts) + "."


MANIFEST = Manifest(
    id="overdue-task",
    name="Overdue tasks",
    version="1.0.0",
    description="How late is late for you, and which projects' due dates are real.",
    consent_key="agent.overdue-task",
    ttl_s=12 * 3600,
    schedule="every 15 minutes",
    min_history=5,
    params=(
        ParamSpec(
            "lateness_tolerance_days",
            "How many days late you usually finish",
            0.0,
            infer_tolerance,
        ),
        ParamSpec(
            "project_realness",
            "Projects whose due dates are real (>1) or soft (<1)",
            {},
            infer_realness,
        ),
    ),
    compute=compute,
)
