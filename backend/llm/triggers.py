"""Asking for a generation: the one part of the LLM domain other domains' jobs call.

Kept free of imports beyond the queue: the profile domain's jobs call it when a snippet changes,
and the generation code itself imports the profile service (a cycle otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.queue import enqueue_many, get_queue
from backend.settings import get_settings

GENERATE_JOB = "generate_tip_candidates"
CHANGE_DELAY_S = 10.0
"""A person's agents run side by side: wait a little so their changed notes make one
generation, not five."""


def generation_job_id(user_id: str) -> str:
    """The one id of a person's generation job: queued twice, it runs once."""
    return f"llm:generate:{user_id}"


async def request_generation(
    user_id: str, *, delay_s: float = CHANGE_DELAY_S, force: bool = False
) -> bool:
    """Queue a generation for the person; False when one is already queued or running.

    A change that arrives while a generation runs is picked up by the next scheduled refresh:
    it compares the context hash, so nothing is lost, only delayed.
    """
    queue = await get_queue()
    job = await queue.enqueue_job(
        GENERATE_JOB,
        user_id,
        force,
        _job_id=generation_job_id(user_id),
        _defer_by=delay_s or None,
        _expires=3600,
    )
    return job is not None


async def snippet_changed(user_id: str) -> bool:
    """An agent wrote new words for the person: rewrite their candidates (unless background
    generation is off)."""
    if not get_settings().llm_background:
        return False
    return await request_generation(user_id)


async def snippets_changed(user_ids: Sequence[str]) -> int:
    """`snippet_changed` for many people in one queue round trip (a worker's batch of agent
    results); returns how many generations were newly queued. Same job, id, delay and expiry
    as `request_generation`, so a person queued either way is queued once."""
    if not get_settings().llm_background or not user_ids:
        return 0
    jobs = [(generation_job_id(u), (u, False)) for u in dict.fromkeys(user_ids)]
    return await enqueue_many(GENERATE_JOB, jobs, expires_s=3600, defer_s=CHANGE_DELAY_S)
