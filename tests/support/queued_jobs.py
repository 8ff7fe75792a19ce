"""Jobs a test enqueued, whoever runs them, and taking one off the queue before a worker does.

Every worker of a test run takes jobs from the same queue (tests/support/fixtures.py): a job a
test enqueued may be started by the session's live worker at any moment, sooner on a loaded
machine. So a test never reads "queued" as "enqueued" — a started or finished job has left the
queue — and a test that runs a job itself first claims it, the way an arq worker does.
"""

from __future__ import annotations

from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import Job, JobDef

from backend.queue import get_queue, queue_name

CLAIM_MS = 120_000
"""How long a claimed job stays marked in progress: longer than any test runs one."""


async def enqueued(prefix: str) -> dict[str, JobDef]:
    """Every job whose id starts with `prefix` that was enqueued and not yet forgotten: queued,
    running or finished (results are kept), by job id."""
    queue = await get_queue()
    ids: set[str] = set()
    for key_prefix in (job_key_prefix, result_key_prefix):
        async for raw in queue.scan_iter(match=f"{key_prefix}{prefix}*", count=1000):
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            ids.add(name[len(key_prefix) :])
    found: dict[str, JobDef] = {}
    for job_id in sorted(ids):
        info = await Job(job_id, queue, _queue_name=queue_name()).info()
        if info is not None:
            found[job_id] = info
    return found


async def claim(job_id: str) -> bool:
    """Take a queued job for this test: True if no worker started it (it is now off the queue,
    marked in progress, for the caller to run); False if a worker has it or it already ran.

    A worker starts a job only if its in-progress key is absent and it is still queued, checked
    under WATCH of that key (arq's `Worker.start_jobs`): setting the key first wins the race."""
    queue = await get_queue()
    marker = in_progress_key_prefix + job_id
    if not await queue.set(marker, b"test", nx=True, px=CLAIM_MS):
        return False
    if await queue.zrem(queue_name(), job_id):
        return True
    await queue.delete(marker)  # not queued any more: it ran (or is gone) already
    return False
