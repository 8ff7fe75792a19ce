"""arq jobs of the privacy domain: the nightly retention purge."""

from __future__ import annotations

from typing import Any

from arq.cron import CronJob, cron

from backend.privacy.service import purge_tip_log, sweep_deleted_accounts


async def purge_tip_log_job(ctx: dict[str, Any]) -> dict[str, int]:
    """Delete decision-log rows past retention; then repeat the purge of recent deletions (rows
    that a job already running at deletion time may have written). Returns the counts."""
    report = await purge_tip_log()
    leftover = await sweep_deleted_accounts()
    return {"served_tips": report.tips, **report.children, "deleted_accounts_rows": leftover}


JOBS = [purge_tip_log_job]
# Once a night at an odd minute (not on the hour, when other crons pile up). `unique` keeps two
# workers from running it at once.
CRON_JOBS: list[CronJob] = [
    cron(purge_tip_log_job, name="privacy.purge_tip_log", hour={3}, minute={17}, unique=True)
]
