"""Profile features (read never computes; staleness visible; rebuild audit-logged) and the
agent fan-out (one job per group of people running every eligible agent of each, deduped per
slot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from arq.jobs import Job

from backend.audit import recent as recent_audit
from backend.events.bus import publish
from backend.events.contracts import TipFeedback
from backend.profile import service
from backend.profile.features import compute_features, read_features, refresh_stale
from backend.profile.jobs import (
    active_user_ids,
    compute_agents,
    compute_agents_group,
    fan_out,
    group_count,
    group_job_id,
    group_of,
    slot,
)
from backend.profile.tables import AgentOutput, FeatureValue
from backend.queue import get_queue, queue_name
from backend.settings import get_settings
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


async def _group_ids(user_ids: list[str], now: datetime) -> list[str]:
    groups = group_count(len(await active_user_ids(now)))
    return sorted({group_job_id(group_of(u, groups), groups, slot(now)) for u in user_ids})


async def test_fan_out_enqueues_each_group_of_people_once() -> None:
    person = await make_person()  # signed up just now: active
    shy = await make_person()
    await service.set_consent(shy.user_id, "agent.focus-area", granted=False)
    # A slot no other test fans out in: a group's job id names the slot and the group, not its
    # people, so an earlier fan-out in the same slot would already have queued these groups.
    now = datetime.now(UTC) + timedelta(days=2)
    pairs, added = await fan_out(now)
    assert added >= 1
    assert pairs >= 9  # five agents for one, four for the other, and others'
    ids = await _group_ids([person.user_id, shy.user_id], now)
    assert await _queued(ids) == len(ids)
    assert await _queued([f"agent:{person.user_id}:time-of-day:{slot(now)}"]) == 0
    queue = await get_queue()
    people_in_jobs = set()
    for job_id in ids:
        info = await Job(job_id, queue, _queue_name=queue_name()).info()
        assert info is not None
        assert info.function == "compute_agents_group"
        people_in_jobs |= set(info.args[0])
    assert {person.user_id, shy.user_id} <= people_in_jobs

    again_pairs, again_added = await fan_out(now)
    assert again_added == 0  # same slot: every job is already queued (or done)
    assert again_pairs == pairs
    assert await _queued(ids) == len(ids)


def test_groups_are_fixed_by_the_person_and_about_fifty_people_each() -> None:
    assert [group_count(n) for n in (0, 1, 50, 51, 10_000)] == [1, 1, 1, 2, 256]
    some = "0b4e7a0e-5fe2-4c6f-9d7e-6a1f3b8c2d11"
    assert group_of(some, 256) == group_of(some, 256) < 256
    assert group_job_id(3, 256, 7) == get_settings().redis_prefix + "agents:7:3/256"


async def test_a_group_job_stores_each_eligible_agent_of_each_person_once() -> None:
    person = await make_person()
    shy = await make_person()
    await service.set_consent(shy.user_id, "agent.focus-area", granted=False)
    ids = [person.user_id, shy.user_id]
    first = await compute_agents_group({}, ids)
    again = await compute_agents_group({}, ids)  # a retry, or the next slot
    assert first == again == {"people": 2, "computed": 9, "skipped": 1}
    assert await _outputs(person.user_id) == dict.fromkeys(service.agent_ids(), 1)
    stored = await _outputs(shy.user_id)
    assert sorted(stored) == sorted(set(service.agent_ids()) - {"focus-area"})


async def _outputs(user_id: str) -> dict[str, int]:
    rows = await AgentOutput.select(AgentOutput.agent_id).where(AgentOutput.user == user_id)
    found: dict[str, int] = {}
    for row in rows:
        found[row["agent_id"]] = found.get(row["agent_id"], 0) + 1
    return found


async def test_one_person_job_stores_each_eligible_agent_once() -> None:
    person = await make_person()
    first = await compute_agents({}, person.user_id)
    again = await compute_agents({}, person.user_id)  # a retry, or the next slot
    assert first == again == {"computed": 5, "skipped": 0}
    assert await _outputs(person.user_id) == dict.fromkeys(service.agent_ids(), 1)


async def test_one_person_job_honours_consent() -> None:
    shy = await make_person()
    await service.set_consent(shy.user_id, "agent.focus-area", granted=False)
    assert await compute_agents({}, shy.user_id) == {"computed": 4, "skipped": 1}
    stored = await _outputs(shy.user_id)
    assert "focus-area" not in stored
    assert sorted(stored) == sorted(set(service.agent_ids()) - {"focus-area"})


async def test_fan_out_skips_deleted_people() -> None:
    from backend.identity.tables import User

    gone = await make_person()
    await User.update({User.deleted_at: datetime.now(UTC)}).where(User.id == gone.user_id)
    now = datetime.now(UTC) + timedelta(hours=1)  # a fresh slot
    await fan_out(now)
    queue = await get_queue()
    for job_id in await _group_ids([gone.user_id], now):
        info = await Job(job_id, queue, _queue_name=queue_name()).info()
        assert info is None or gone.user_id not in info.args[0]
