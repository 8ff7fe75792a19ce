"""overdue-task: p50 lateness and which projects' due dates are real."""

from __future__ import annotations

from datetime import timedelta

from agents.inference import run_inference
from agents.overdue_task import MANIFEST
from agents.types import AgentContext
from tests.unit.agents.histories import NOW, done, history


def _late(days_late: int, project: str) -> object:
    at = NOW - timedelta(days=1)
    return done(at, project=project, due=at.date() - timedelta(days=days_late))


def test_cold_start() -> None:
    result = run_inference(MANIFEST, history([_late(3, "Work")] * 4))  # type: ignore[list-item]
    assert result.values == {"lateness_tolerance_days": 0.0, "project_realness": {}}


async def test_tolerance_and_realness() -> None:
    events = [_late(d, "Work") for d in (0, 0, 1, 0)] + [_late(d, "Home") for d in (5, 7, 6, 9)]
    events.append(done(NOW - timedelta(days=2), project="Home"))  # no due date: ignored
    h = history(events)  # type: ignore[arg-type]
    result = run_inference(MANIFEST, h)
    # Lateness: 0,0,0,1,5,6,7,9 → median 3.
    assert result.values["lateness_tolerance_days"] == 3.0
    # Work median 0 → (1+3)/(1+0) = 4; Home median 6.5 → 4/7.5 = 0.53.
    assert result.values["project_realness"] == {"Home": 0.53, "Work": 4.0}
    snippet = await MANIFEST.compute(AgentContext(h, result.values, result.evidence))
    assert "3 days after the due date" in snippet
    assert "due dates in Work are real" in snippet
    assert "due dates in Home are soft" in snippet


def test_early_completions_count_as_on_time() -> None:
    h = history([_late(-4, "Work") for _ in range(6)])  # type: ignore[misc]
    assert run_inference(MANIFEST, h).values["lateness_tolerance_days"] == 0.0


def test_exactly_min_history_without_due_dates() -> None:
    h = history([done(NOW - timedelta(days=i)) for i in range(MANIFEST.min_history)])
    result = run_inference(MANIFEST, h)
    assert result.values == {"lateness_tolerance_days": 0.0, "project_realness": {}}
    assert result.evidence == MANIFEST.min_history
