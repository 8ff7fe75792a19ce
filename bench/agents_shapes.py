"""The agent fan-out's earlier job shapes, for an A/B in bench/agents_throughput.py on the same
machine: one job per person (ADR 0030) and one job per (person, agent) (before it). Both job
functions are still registered (queued jobs of an older release still run; admin runs use the
single-agent one)."""

from __future__ import annotations


async def fan_out_per_person() -> tuple[int, int]:
    """`--jobs per-person`: the fan-out of ADR 0030, one job per person running every eligible
    agent (the job function is still registered) — the A/B baseline of the group jobs."""
    from datetime import UTC, datetime

    from backend.profile.eligibility import eligible_agents, snapshots
    from backend.profile.jobs import (
        CHUNK,
        PERSON_JOB,
        active_user_ids,
        interval_s,
        person_job_id,
        slot,
    )
    from backend.queue import enqueue_many

    now = datetime.now(UTC)
    users = await active_user_ids(now)
    pairs = added = 0
    for start in range(0, len(users), CHUNK):
        snaps = await snapshots(users[start : start + CHUNK], full=False)
        eligible = {uid: len(eligible_agents(snap)) for uid, snap in snaps.items()}
        jobs = [(person_job_id(uid, slot(now)), (uid,)) for uid, n in eligible.items() if n]
        pairs += sum(eligible.values())
        added += await enqueue_many(PERSON_JOB, jobs, expires_s=interval_s())
    return pairs, added


async def fan_out_per_agent() -> tuple[int, int]:
    """`--jobs per-agent`: the fan-out as it was before ADR 0030, one job per (person, agent)
    through the single-agent job that admin runs still use — the A/B baseline in this tree."""
    from datetime import UTC, datetime

    from backend.profile.eligibility import eligible_agents, snapshots
    from backend.profile.jobs import (
        CHUNK,
        COMPUTE_JOB,
        active_user_ids,
        agent_job_id,
        interval_s,
        slot,
    )
    from backend.queue import enqueue_many

    now = datetime.now(UTC)
    users = await active_user_ids(now)
    pairs = added = 0
    for start in range(0, len(users), CHUNK):
        snaps = await snapshots(users[start : start + CHUNK], full=False)
        jobs = [
            (agent_job_id(m.id, uid, slot(now)), (uid, m.id))
            for uid, snap in snaps.items()
            for m in eligible_agents(snap)
        ]
        pairs += len(jobs)
        added += await enqueue_many(COMPUTE_JOB, jobs, expires_s=interval_s())
    return pairs, added
