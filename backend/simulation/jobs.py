"""arq jobs of the simulation domain: long simulation runs, off the web process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from arq import cron
from arq.worker import func

from backend.settings import get_settings
from backend.simulation.service import JOB, execute
from backend.simulation.store import purge_ended

RUN_TIMEOUT_S = 6 * 3600
"""A run may take a while (millions of decisions); arq's default 5 minutes would kill it."""


async def run_simulation(ctx: dict[str, Any], run_id: str, user_id: str = "") -> str:
    """Execute a queued run; its outcome is in sim_runs (and on the bus)."""
    view = await execute(run_id, user_id)
    return view.status if view else "missing"


async def purge_sim_runs(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: drop runs (and their events) that ended more than OO_SIM_RETENTION_DAYS ago."""
    before = datetime.now(UTC) - timedelta(days=get_settings().sim_retention_days)
    runs, events = await purge_ended(before)
    return {"runs": runs, "events": events}


# One try: a failed run is recorded as failed; running it again would not change the outcome.
JOBS = [func(run_simulation, name=JOB, timeout=RUN_TIMEOUT_S, max_tries=1)]
# Nightly at an odd minute, away from the privacy purge (03:17) and the on-the-hour crons.
CRON_JOBS: list[Any] = [
    cron(purge_sim_runs, name="simulation.purge_runs", hour={3}, minute={41}, unique=True)
]
