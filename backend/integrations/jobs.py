"""arq jobs of the integrations domain."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from arq import Retry, cron

from backend.events.bus import publish
from backend.events.contracts import ItemCompleted
from backend.integrations import completions, todoist
from backend.integrations.completions import purge_completions
from backend.integrations.errors import RateLimited, SourceError
from backend.integrations.service import complete_item as close_at_source
from backend.integrations.service import forget_items, known_item, sync
from backend.integrations.sources import source_name
from backend.integrations.status import active_pairs, mark_failed, user_for_account
from backend.queue import enqueue
from backend.recommender.delayed import record_source_completion, user_for_served_item
from backend.settings import get_settings

MAX_TRIES = 5


async def complete_item(ctx: dict[str, Any], user_id: str, item_ref: str, tip_id: str) -> bool:
    """Close the item a "done" tip points at, once; retried with backoff on failure."""
    try:
        closed = await close_at_source(user_id, item_ref, once_key=f"tip:{tip_id}")
    except Exception as exc:
        tries = int(ctx.get("job_try", 1))
        if tries < MAX_TRIES:
            raise Retry(defer=2**tries) from exc
        await mark_failed(
            user_id, source_name(item_ref), "oO could not mark a task done there after 5 tries."
        )
        await publish(
            user_id,
            ItemCompleted(
                item_ref=item_ref, source=source_name(item_ref), ok=False, detail=str(exc)[:200]
            ),
        )
        return False
    if closed:
        await publish(
            user_id, ItemCompleted(item_ref=item_ref, source=source_name(item_ref), ok=True)
        )
    return closed


async def sync_source(ctx: dict[str, Any], user_id: str, source: str) -> int:
    """Refresh one (person, source); a 429 is retried after the provider's Retry-After."""
    try:
        return await sync(user_id, source)
    except RateLimited as err:
        if int(ctx.get("job_try", 1)) < MAX_TRIES:
            raise Retry(defer=min(err.retry_after, 900)) from err
        return -1
    except SourceError:
        return -1  # recorded in the integration's status; the next schedule tries again


def _slot() -> int:
    """The current sync interval's number: part of the job id, so each interval syncs once."""
    return int(time.time() // max(60, get_settings().sync_interval_s))


async def sync_all(ctx: dict[str, Any]) -> int:
    """Cron: one sync job per connected (person, source), deduped by a stable job id."""
    pairs = await active_pairs()
    slot = _slot()
    for user_id, source in pairs:
        await enqueue("sync_source", user_id, source, job_id=f"sync:{user_id}:{source}:{slot}")
    return len(pairs)


async def todoist_webhook(
    ctx: dict[str, Any], event_name: str, account: str, task_id: str, completed_at: str | None
) -> str:
    """Apply a verified Todoist webhook: refresh the cache; a completion may be a delayed reward."""
    item_ref = f"{todoist.PREFIX}{task_id}"
    user_id = await user_for_account(todoist.PROVIDER, account) if account else None
    if user_id is None:
        user_id = await user_for_served_item(item_ref)
    if user_id is None:
        return "unknown account"
    if event_name != "item:completed":
        await forget_items(user_id, todoist.PROVIDER)
        return "cache refreshed"
    when = datetime.fromisoformat(completed_at.replace("Z", "+00:00")) if completed_at else None
    if when is not None and when.tzinfo is not None:
        await _keep_completion(user_id, item_ref, when)
    await forget_items(user_id, todoist.PROVIDER)
    if await record_source_completion(user_id, item_ref, when):
        return "delayed reward"
    return "cache refreshed"


async def purge_old_completions(ctx: dict[str, Any]) -> int:
    """Cron: delete kept completions past COMPLETION_KEEP_DAYS; returns how many."""
    return await purge_completions()


async def _keep_completion(user_id: str, item_ref: str, at: datetime) -> None:
    """A completion joins the history at once (habits, agents), named from the last-known copy
    of the task; an unknown task is left for the next sync to read."""
    item = await known_item(user_id, todoist.PROVIDER, item_ref)
    if item is None:
        return
    done = todoist.CompletedTask(
        item_ref,
        item.project,
        item.due_date,
        at,
        priority=item.priority,
        added_at=item.added_at,
        recurring=item.is_recurring,
    )
    await completions.record_completion(user_id, todoist.PROVIDER, done)


def _sync_minutes() -> set[int]:
    step = max(1, get_settings().sync_interval_s // 60)
    return set(range(0, 60, min(step, 60)))


JOBS = [complete_item, sync_source, todoist_webhook]
CRON_JOBS = [
    cron(sync_all, minute=_sync_minutes(), run_at_startup=False, unique=True),
    # Once a night at a quiet minute (the privacy and simulation purges run at 3:17 and 3:41).
    cron(
        purge_old_completions,
        name="integrations.purge_completions",
        hour={3},
        minute={23},
        run_at_startup=False,
        unique=True,
    ),
]
