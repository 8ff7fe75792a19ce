"""arq jobs of the LLM domain: one person's generation, and the scheduled refresh of everyone's.

Generation is asked for when an agent's snippet changes (backend.profile.jobs calls
`request_generation`) and by the refresh cron; both use the person's one job id, so a person
has at most one generation queued or running.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arq import cron
from arq.worker import func

from backend.llm.config import tip_model_configured
from backend.llm.gateway import worker_gateway
from backend.llm.orchestrator import generate
from backend.llm.store import prune
from backend.llm.triggers import GENERATE_JOB, generation_job_id
from backend.profile.service import active_user_ids
from backend.queue import enqueue_many
from backend.settings import get_settings


async def generate_tip_candidates(
    ctx: dict[str, Any], user_id: str, force: bool = False
) -> dict[str, Any]:
    """Write (or keep, when nothing changed) one person's tip candidates."""
    gateway = worker_gateway() if tip_model_configured() else None
    done = await generate(user_id, gateway, force=force)
    return {
        "status": done.status,
        "model": done.model,
        "prompt_version": done.prompt_version,
        "outcome": done.outcome,
        "candidates": done.candidates,
    }


def refresh_interval_s() -> int:
    """Seconds between scheduled refreshes."""
    return get_settings().llm_refresh_min * 60


async def refresh_tip_candidates(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: a generation job per active person (skipped at run time when nothing changed)."""
    pruned = await prune(datetime.now(UTC))
    if not get_settings().llm_background:
        return {"people": 0, "enqueued": 0, "pruned": pruned}
    users = await active_user_ids()
    jobs = [(generation_job_id(uid), (uid, False)) for uid in users]
    added = await enqueue_many(GENERATE_JOB, jobs, expires_s=refresh_interval_s())
    return {"people": len(users), "enqueued": added, "pruned": pruned}


def _job_timeout_s() -> int:
    settings = get_settings()
    # Three attempts, each with the router's own retries, plus the context reads and writes.
    return settings.llm_timeout_s * 3 * (1 + settings.llm_retries) + 60


JOBS = [
    # keep_result=0: the job id must be free again as soon as a run ends, so the next change
    # can queue the next generation.
    func(
        generate_tip_candidates,
        name=GENERATE_JOB,
        keep_result=0,
        max_tries=2,
        timeout=_job_timeout_s(),
    )
]

CRON_JOBS = [
    cron(
        refresh_tip_candidates,
        minute=set(range(0, 60, get_settings().llm_refresh_min)),
        second=45,
        unique=True,
        # A fresh worker (`oo up`) gives people candidates at once instead of at the next
        # slot; people whose context did not change are skipped, so restarts cost little.
        run_at_startup=True,
    )
]
