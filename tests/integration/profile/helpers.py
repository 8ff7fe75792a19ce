"""Giving a test person a history: completed demo tasks at chosen times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.integrations.tables import DemoTask


async def give_completions(
    user_id: str, times: list[datetime], project: str = "Work", content: str = "Write the report"
) -> None:
    """Completed tasks at these times."""
    await DemoTask.insert(
        *[
            DemoTask(user=user_id, project=project, content=content, completed_at=at, added_at=at)
            for at in times
        ]
    )


def awake_times(days: int = 10, first: int = 7, last: int = 22) -> list[datetime]:
    """One completion per waking hour (UTC) on each of the last `days` days."""
    today = datetime.now(UTC).replace(minute=10, second=0, microsecond=0)
    return [
        today.replace(hour=h) - timedelta(days=d)
        for d in range(1, days + 1)
        for h in range(first, last + 1)
    ]
