"""arq jobs of the integrations domain."""

from __future__ import annotations

from typing import Any

from arq import Retry

from backend.events.bus import publish
from backend.events.contracts import ItemCompleted
from backend.integrations.service import complete_item as close_at_source
from backend.integrations.sources import source_name

MAX_TRIES = 5


async def complete_item(ctx: dict[str, Any], user_id: str, item_ref: str, tip_id: str) -> bool:
    """Close the item a "done" tip points at, once; retried with backoff on failure."""
    try:
        closed = await close_at_source(user_id, item_ref, once_key=f"tip:{tip_id}")
    except Exception as exc:
        tries = int(ctx.get("job_try", 1))
        if tries < MAX_TRIES:
            raise Retry(defer=2**tries) from exc
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


JOBS = [complete_item]
