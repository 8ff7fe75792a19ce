"""arq jobs of the simulation domain: long simulation runs, off the web process."""

from __future__ import annotations

from typing import Any

from arq.worker import func

from backend.simulation.service import JOB, execute

RUN_TIMEOUT_S = 6 * 3600
"""A run may take a while (millions of decisions); arq's default 5 minutes would kill it."""


async def run_simulation(ctx: dict[str, Any], run_id: str, user_id: str = "") -> str:
    """Execute a queued run; its outcome is in sim_runs (and on the bus)."""
    view = await execute(run_id, user_id)
    return view.status if view else "missing"


# One try: a failed run is recorded as failed; running it again would not change the outcome.
JOBS = [func(run_simulation, name=JOB, timeout=RUN_TIMEOUT_S, max_tries=1)]
CRON_JOBS: list[Any] = []
