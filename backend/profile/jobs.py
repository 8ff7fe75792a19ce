"""arq jobs of the profile domain: the agent fan-out (one job per group of people, running every
eligible agent of each), one agent run (admin, rebuild), the feature refresh."""

from __future__ import annotations

import asyncio
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import cron
from arq.worker import func

from agents.registry import UnknownAgent
from backend.identity.service import live_user_zones, users_created_since
from backend.integrations.service import users_completed_since
from backend.profile.eligibility import eligible_agents, snapshots
from backend.profile.features import refresh_stale
from backend.profile.runner import Runner, run_agent, run_agents, run_group
from backend.profile.tip_history import users_served_since
from backend.queue import enqueue_many
from backend.settings import get_settings

COMPUTE_JOB = "compute_agent"
PERSON_JOB = "compute_agents"
GROUP_JOB = "compute_agents_group"
CHUNK = 1000
PEOPLE_PER_JOB = 50
"""About this many people per agent job: each arq job costs a few Redis round trips and its
bookkeeping, more than a person's agent runs themselves (bench/profile_agents.py)."""
_runners: dict[int, Runner] = {}


def worker_runner() -> Runner:
    """The batched runner shared by every agent job of this worker process.

    Module-level, not in arq's ctx: arq gives each job its own copy of ctx, so a runner kept
    there would batch nothing. One per event loop (a worker has one; tests may have several).
    """
    key = id(asyncio.get_running_loop())
    runner = _runners.get(key)
    if runner is None:
        runner = _runners[key] = Runner.batched(get_settings().worker_max_jobs)
    return runner


async def active_user_ids(now: datetime | None = None) -> list[str]:
    """Live people who signed up, were served a tip or completed a task recently."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=get_settings().agents_active_days)
    ids = (
        await users_created_since(since)
        | await users_served_since(since)
        | await users_completed_since(since)
    )
    return sorted(await live_user_zones(sorted(ids))) if ids else []


def interval_s() -> int:
    """Seconds between fan-outs."""
    return get_settings().agents_interval_min * 60


def slot(now: datetime) -> int:
    """The fan-out slot `now` falls in; part of every job id, so each slot runs a job once."""
    return int(now.timestamp()) // interval_s()


def agent_job_id(agent_id: str, user_id: str, slot_no: int) -> str:
    """The id of one (person, agent) run (admin runs and rebuilds add a suffix of their own)."""
    return f"agent:{user_id}:{agent_id}:{slot_no}"


def person_job_id(user_id: str, slot_no: int) -> str:
    """The stable id of one person's agent runs in one slot."""
    return f"agents:{user_id}:{slot_no}"


def group_count(people: int) -> int:
    """How many groups `people` active people are split into: a power of two with about
    PEOPLE_PER_JOB people per group, so it (and with it the job ids) changes rarely."""
    groups = 1
    while groups * PEOPLE_PER_JOB < people:
        groups *= 2
    return groups


def group_of(user_id: str, groups: int) -> int:
    """A person's group: fixed by their id, whoever else is active."""
    return zlib.crc32(user_id.encode()) % groups


def group_job_id(group: int, groups: int, slot_no: int) -> str:
    """The stable id of one group's agent runs in one slot.

    arq keeps jobs under their bare id: the deployment's key prefix is part of it, or two
    deployments sharing one Redis would take each other's group jobs for their own.
    """
    return f"{get_settings().redis_prefix}agents:{slot_no}:{group}/{groups}"


async def fan_out(now: datetime | None = None) -> tuple[int, int]:
    """Enqueue one job per group of active people with an eligible agent; returns (eligible
    (person, agent) pairs, new jobs).

    A job runs every agent of each of its people: one read of their histories and one write
    for the group, and one job's queue traffic for ~PEOPLE_PER_JOB people. A person's group
    comes from their id and the job id from (slot, group, groups), so running the fan-out
    twice in a slot (two workers' crons, a manual run) enqueues each job once; should the
    group count change between the two, people run twice, which stores nothing twice (one row
    per person and agent, upserted).
    """
    now = now or datetime.now(UTC)
    slot_no = slot(now)
    users = await active_user_ids(now)
    groups = group_count(len(users))
    pairs = 0
    members: dict[int, list[str]] = {}
    for start in range(0, len(users), CHUNK):
        snaps = await snapshots(users[start : start + CHUNK], full=False)
        for uid, snap in snaps.items():
            eligible = len(eligible_agents(snap))
            pairs += eligible
            if eligible:
                members.setdefault(group_of(uid, groups), []).append(uid)
    jobs = [(group_job_id(g, groups, slot_no), (ids,)) for g, ids in sorted(members.items())]
    # A job not started within one interval is stale: the next fan-out makes a fresh one.
    added = await enqueue_many(GROUP_JOB, jobs, expires_s=interval_s())
    return pairs, added


async def fan_out_agents(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: the agent fan-out."""
    pairs, added = await fan_out()
    return {"eligible": pairs, "enqueued": added}


async def compute_agent(ctx: dict[str, Any], user_id: str, agent_id: str) -> dict[str, str]:
    """Run one agent for one person (eligibility is checked again now, at run time)."""
    runner = worker_runner()
    try:
        run = await run_agent(user_id, agent_id, runner)
    except UnknownAgent:
        # An agent removed from the registry since the job was queued: nothing to do.
        return {"status": "skipped", "reason": f"unknown agent {agent_id}"}
    # New words in a note reach the llm domain as a `signals.agent.computed` event.
    return {"status": run.status, "reason": run.reason}


async def compute_agents(ctx: dict[str, Any], user_id: str) -> dict[str, int]:
    """Run every agent for one person (each one's eligibility is checked again now)."""
    runs = await run_agents(user_id, worker_runner())
    computed = sum(run.status == "computed" for run in runs)
    return {"computed": computed, "skipped": len(runs) - computed}


async def compute_agents_group(ctx: dict[str, Any], user_ids: list[str]) -> dict[str, int]:
    """Run every agent for each person of a group (each person's eligibility is checked again
    now): one read per table for the group, one write transaction and one event pipeline."""
    runs = await run_group(user_ids)
    computed = sum(run.status == "computed" for person in runs.values() for run in person)
    skipped = sum(len(person) for person in runs.values()) - computed
    return {"people": len(user_ids), "computed": computed, "skipped": skipped}


async def refresh_features(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: recompute stale (missing, expired, invalidated) features of active people."""
    users = await active_user_ids()
    refreshed = 0
    for start in range(0, len(users), CHUNK):
        refreshed += await refresh_stale(users[start : start + CHUNK])
    return {"people": len(users), "features": refreshed}


def _minutes() -> set[int]:
    return set(range(0, 60, get_settings().agents_interval_min))


JOBS = [
    func(compute_agent, name=COMPUTE_JOB, keep_result=interval_s() + 60, max_tries=3),
    func(compute_agents, name=PERSON_JOB, keep_result=interval_s() + 60, max_tries=3),
    func(compute_agents_group, name=GROUP_JOB, keep_result=interval_s() + 60, max_tries=3),
]
"""Results are kept one interval: the dedupe window of a slot's job ids."""

CRON_JOBS = [
    cron(fan_out_agents, minute=_minutes(), second=0, unique=True, run_at_startup=False),
    cron(refresh_features, minute=_minutes(), second=30, unique=True, run_at_startup=False),
]
