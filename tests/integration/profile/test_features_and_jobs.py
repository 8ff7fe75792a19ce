"""Profile features (read never computes; staleness visible; rebuild audit-logged) and the
agent fan-out (one job per person and eligible agent, deduped per slot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.audit import recent as recent_audit
from backend.events.bus import publish
from backend.events.contracts import TipFeedback
from backend.profile import service
from backend.profile.features import compute_features, read_features, refresh_stale
from backend.profile.jobs import agent_job_id, fan_out, slot
from backend.profile.tables import FeatureValue
from backend.queue import get_queue
from tests.integration.profile.helpers import awake_times, give_completions
from tests.support.fixtures import make_person

FEEDBACK = TipFeedback(
    tip_id="t",
    item_ref="demo:x",
    action="done",
    dwell_ms=1000,
    dwell_source="client",
    reward=1.0,
    reward_source="reaction",
)


async def test_reading_never_computes_and_shows_staleness() -> None:
    person = await make_person()
    await give_completions(person.user_id, awake_times(days=2))
    unread = await read_features(person.user_id)
    assert {(f.value, f.computed_at, f.fresh) for f in unread} == {(None, None, False)}
    assert not await FeatureValue.exists().where(FeatureValue.user == person.user_id)

    await compute_features([person.user_id])
    fresh = {f.name: f for f in await read_features(person.user_id)}
    assert fresh["done_last_7d"].value == 32
    assert fresh["history_events_90d"].value == 32
    assert fresh["done_last_7d"].fresh
    assert fresh["done_last_7d"].ttl_s == 3600
    computed_at = fresh["done_last_7d"].computed_at

    # An event named in invalidated_by makes it stale, and reading leaves it stale.
    await publish(person.user_id, FEEDBACK)
    stale = {f.name: f for f in await read_features(person.user_id)}
    assert stale["done_last_7d"].invalidated
    assert not stale["done_last_7d"].fresh
    assert stale["done_last_7d"].computed_at == computed_at
    assert stale["done_last_7d"].value == 32
    assert stale["usual_done_hour"].fresh  # not invalidated by feedback
    # Age past the TTL is stale too.
    later = {
        f.name: f
        for f in await read_features(person.user_id, datetime.now(UTC) + timedelta(hours=2))
    }
    assert not later["history_events_90d"].fresh
    assert later["usual_done_hour"].fresh  # 24 h TTL


async def test_refresh_recomputes_only_stale_features() -> None:
    person = await make_person()
    await compute_features([person.user_id])
    await publish(person.user_id, FEEDBACK)
    refreshed = await refresh_stale([person.user_id])
    # The 5 features that feedback invalidates: done_last_7d, reaction_rate_30d,
    # done_share_30d, last_active_at, history_events_90d.
    assert refreshed == 5
    assert all(f.fresh for f in await read_features(person.user_id))
    assert await refresh_stale([person.user_id]) == 0


async def test_rebuild_recomputes_and_is_audit_logged() -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person()
    await give_completions(person.user_id, awake_times(days=1))
    await compute_features([person.user_id])
    before = {f.name: f.computed_at for f in await read_features(person.user_id)}
    await give_completions(person.user_id, awake_times(days=1))
    views = {f.name: f for f in await service.rebuild_profile(admin.user_id, person.user_id)}
    assert views["done_last_7d"].value == 32
    assert all(views[n].computed_at > before[n] for n in before)  # type: ignore[operator]
    entry = (await recent_audit(action_prefix="profile.rebuild", target=person.user_id))[0]
    assert entry.actor_user_id == admin.user_id
    assert entry.detail["agents"] == [
        "time-of-day",
        "momentum",
        "overdue-task",
        "recent-patterns",
        "focus-area",
    ]


async def _queued(ids: list[str]) -> int:
    queue = await get_queue()
    found = 0
    for job_id in ids:
        found += int(
            await queue.exists(f"arq:job:{job_id}") or await queue.exists(f"arq:result:{job_id}")
        )
    return found


async def test_fan_out_enqueues_each_job_once() -> None:
    person = await make_person()  # signed up just now: active
    shy = await make_person()
    await service.set_consent(shy.user_id, "agent.focus-area", granted=False)
    now = datetime.now(UTC)
    pairs, added = await fan_out(now)
    assert added >= 9
    assert pairs >= added
    ids = [agent_job_id(a, person.user_id, slot(now)) for a in service.agent_ids()]
    assert await _queued(ids) == 5
    shy_ids = [agent_job_id(a, shy.user_id, slot(now)) for a in service.agent_ids()]
    assert await _queued(shy_ids) == 4
    assert not await _queued([agent_job_id("focus-area", shy.user_id, slot(now))])

    again_pairs, again_added = await fan_out(now)
    assert again_added == 0  # same slot: every job is already queued (or done)
    assert again_pairs == pairs
    assert await _queued(ids) == 5


async def test_fan_out_skips_deleted_people() -> None:
    from backend.identity.tables import User

    gone = await make_person()
    await User.update({User.deleted_at: datetime.now(UTC)}).where(User.id == gone.user_id)
    now = datetime.now(UTC) + timedelta(hours=1)  # a fresh slot
    await fan_out(now)
    ids = [agent_job_id(a, gone.user_id, slot(now)) for a in service.agent_ids()]
    assert await _queued(ids) == 0
