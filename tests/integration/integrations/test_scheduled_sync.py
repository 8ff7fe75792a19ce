"""The scheduler keeps every connected source fresh: one job per (person, source), deduped."""

from __future__ import annotations

from backend.integrations import status
from backend.integrations.jobs import sync_all
from backend.settings import get_settings
from tests.support.fixtures import make_person
from tests.support.queued_jobs import enqueued


async def _queued_ids() -> set[str]:
    """Sync jobs enqueued, queued or already run by the session's worker."""
    return set(await enqueued("sync:"))


async def test_cron_twice_enqueues_each_pair_once() -> None:
    a = await make_person(tasks=False)
    b = await make_person(tasks=False)
    await status.mark_connected(a.user_id, "todoist", "1")
    await status.mark_connected(b.user_id, "todoist", "2")
    await status.mark_connected(b.user_id, "google-calendar", "primary")
    await status.mark_disconnected(a.user_id, "todoist")
    await status.mark_connected(a.user_id, "google-calendar", "primary")
    # A failing source gives up after OO_SYNC_MAX_FAILURES: needs attention, no longer scheduled.
    for _ in range(get_settings().sync_max_failures):
        await status.mark_failed(b.user_id, "google-calendar", "Google said no.")
    state = await status.get_state(b.user_id, "google-calendar")
    assert state is not None
    assert state.status == "needs_attention"
    assert state.error == "Google said no."

    before = await _queued_ids()
    await sync_all({})
    await sync_all({})
    mine = {j for j in await _queued_ids() - before if a.user_id in j or b.user_id in j}
    assert len(mine) == 2
    assert any(a.user_id in j and j.split(":")[2] == "google-calendar" for j in mine)
    assert any(b.user_id in j and j.split(":")[2] == "todoist" for j in mine)
