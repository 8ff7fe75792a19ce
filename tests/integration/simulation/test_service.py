"""Running a stored simulation in-process: finished runs keep their events; cancelled ones fail."""

from __future__ import annotations

import asyncio

import pytest

from backend.simulation import service, store
from backend.simulation.runner import SimConfig


async def _stored(config: SimConfig) -> str:
    return await store.create_run(config.as_dict(), "cli", service.total_decisions(config))


async def test_a_run_is_stored_with_its_summary_and_sampled_events() -> None:
    config = SimConfig(
        policies=("random", "random", "oo-v1"), personas=("student",), decisions=40, event_limit=30
    )
    run_id = await _stored(config)
    seen: list[int] = []
    view = await service.execute(run_id, on_progress=lambda p: seen.append(p.done))
    assert view is not None
    assert view.status == "finished"
    assert view.done == view.total == 40 * 3, "the oracle once, each policy once"
    assert seen == sorted(seen)
    assert seen[-1] == view.total
    assert set(view.summary["policies"]) == {"oracle", "random", "oo-v1"}
    events = await store.events_of(run_id)
    assert 0 < len(events) == view.events_stored <= 40
    assert {e["persona"] for e in events} == {"student"}
    # Executing again changes nothing: only queued runs run.
    again = await service.execute(run_id)
    assert again is not None
    assert again.finished_at == view.finished_at


async def test_a_cancelled_run_is_marked_failed() -> None:
    config = SimConfig(policies=("oo-v1",), personas=("lark",), decisions=5000, events="none")
    run_id = await _stored(config)
    task = asyncio.create_task(service.execute(run_id, publish_required=False))
    for _ in range(400):
        view = await store.get_run(run_id)
        if view is not None and view.done > 0:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    view = await store.get_run(run_id)
    assert view is not None
    assert view.status == "failed"
    assert "cancelled" in view.error
    assert await store.get_run("not-a-uuid") is None


async def test_ended_runs_past_retention_are_purged_with_their_events() -> None:
    from datetime import UTC, datetime, timedelta

    from backend.simulation.jobs import purge_sim_runs
    from backend.simulation.tables import SimEvent, SimRun

    config = SimConfig(policies=("random",), personas=("student",), decisions=20, event_limit=10)
    old, recent = await _stored(config), await _stored(config)
    for run_id in (old, recent):
        await service.execute(run_id)
    queued = await _stored(config)  # never executed: a queued run is kept whatever its age
    long_ago = datetime.now(UTC) - timedelta(days=91)
    await SimRun.update({SimRun.finished_at: long_ago}).where(SimRun.id == old)
    await SimRun.update({SimRun.created_at: long_ago}).where(SimRun.id == queued)
    old_events = await SimEvent.count().where(SimEvent.run == old)
    assert old_events > 0

    report = await purge_sim_runs({})

    assert report["runs"] >= 1
    assert report["events"] >= old_events
    assert await store.get_run(old) is None
    assert await SimEvent.count().where(SimEvent.run == old) == 0
    kept = await store.get_run(recent)
    assert kept is not None
    assert kept.events_stored == await SimEvent.count().where(SimEvent.run == recent)
    still_queued = await store.get_run(queued)
    assert still_queued is not None
    assert still_queued.status == "queued"
