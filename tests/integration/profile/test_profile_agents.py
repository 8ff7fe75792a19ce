"""Agents against the database: inference never overwrites the person; consent and contexts
gate runs and snippets; versions invalidate outputs."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from agents.registry import get_agent
from backend.profile import service
from backend.profile.runner import Runner, run_agent
from backend.profile.tables import AgentOutput
from tests.integration.profile.helpers import awake_times, give_completions
from tests.support.fixtures import make_person


async def _person_with_history() -> str:
    person = await make_person()
    await give_completions(person.user_id, awake_times())
    return person.user_id


async def test_inferred_values_are_stored_and_a_user_value_is_never_overwritten() -> None:
    uid = await _person_with_history()
    await service.set_preferences(uid, "agent:time-of-day", {"quiet_start": 21})
    run = await run_agent(uid, "time-of-day")
    assert run.status == "computed"
    assert run.result is not None
    prefs = {p.key: p for p in await service.preferences(uid, "agent:time-of-day")}
    assert (prefs["quiet_start"].value, prefs["quiet_start"].source) == (21, "user")
    assert (prefs["quiet_end"].value, prefs["quiet_end"].source) == (7, "inferred")
    assert prefs["quiet_end"].evidence == 160
    # The snippet uses the person's own value.
    assert "quiet 21:00–07:00" in run.result.snippet
    # A second run (and its batched upsert) still leaves the person's value alone.
    await run_agent(uid, "time-of-day", Runner.batched())
    again = {p.key: p for p in await service.preferences(uid, "agent:time-of-day")}
    assert (again["quiet_start"].value, again["quiet_start"].source) == (21, "user")


async def test_reset_returns_to_the_inferred_value() -> None:
    uid = await _person_with_history()
    await run_agent(uid, "time-of-day")
    await service.set_preferences(uid, "agent:time-of-day", {"quiet_end": 9})
    rows = await service.set_preferences(uid, "agent:time-of-day", {"quiet_end": None})
    reset = next(p for p in rows if p.key == "quiet_end")
    assert (reset.value, reset.source, reset.evidence) == (7, "inferred", 160)


async def test_revoking_consent_removes_outputs_and_stops_runs() -> None:
    uid = await _person_with_history()
    await service.set_preferences(uid, "agent:momentum", {"stdev": 1.5})
    assert (await run_agent(uid, "momentum")).status == "computed"
    assert [o.agent_id for o in await service.agent_outputs(uid)] == ["momentum"]

    consent = await service.set_consent(uid, "agent.momentum", granted=False)
    assert consent.granted is False
    assert consent.revoked_at is not None
    assert await service.agent_outputs(uid) == []
    left = await service.preferences(uid, "agent:momentum")
    assert [(p.key, p.source) for p in left] == [("stdev", "user")]  # inferred ones gone
    run = await run_agent(uid, "momentum")
    assert (run.status, run.reason) == ("skipped", "consent agent.momentum revoked")
    assert not await AgentOutput.exists().where(AgentOutput.user == uid)

    await service.set_consent(uid, "agent.momentum", granted=True)
    assert (await run_agent(uid, "momentum")).status == "computed"


async def test_a_late_write_after_revocation_is_dropped() -> None:
    uid = await _person_with_history()
    data = await Runner().person(uid)  # read before the revocation…
    assert data is not None
    await service.set_consent(uid, "agent.focus-area", granted=False)
    assert (await run_agent(uid, "focus-area")).status == "skipped"

    # …so a run working from that read still computes, but its write is dropped.
    stale = Runner()

    async def old_read(user_id: str) -> object:
        return data

    stale.person = old_read  # type: ignore[method-assign, assignment]
    assert (await run_agent(uid, "focus-area", stale)).status == "computed"
    assert await service.agent_outputs(uid) == []


async def test_an_active_context_silences_an_agent() -> None:
    uid = await _person_with_history()
    await asyncio.gather(run_agent(uid, "momentum"), run_agent(uid, "focus-area"))
    ctx = await service.upsert_context(uid, "  holiday ", ["momentum"], ["TASK"])
    assert (ctx.name, ctx.silenced_agents, ctx.silenced_kinds, ctx.active) == (
        "holiday",
        ("momentum",),
        ("task",),
        False,
    )
    assert (await run_agent(uid, "momentum")).status == "computed"
    await service.activate_context(uid, "holiday")
    run = await run_agent(uid, "momentum")
    assert (run.status, run.reason) == ("skipped", "silenced by context 'holiday'")
    assert [o.agent_id for o in await service.usable_snippets(uid)] == ["focus-area"]
    await service.upsert_context(uid, "work", [], [])
    await service.activate_context(uid, "work")  # one active context at a time
    assert [c.active for c in await service.contexts(uid)] == [False, True]
    assert (await run_agent(uid, "momentum")).status == "computed"


async def test_a_new_agent_version_invalidates_old_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uid = await _person_with_history()
    await run_agent(uid, "overdue-task")
    assert [o.agent_id for o in await service.agent_outputs(uid)] == ["overdue-task"]
    bumped = dataclasses.replace(get_agent("overdue-task"), version="2.0.0")
    import agents.registry as registry

    monkeypatch.setattr(
        registry,
        "AGENTS",
        tuple(bumped if m.id == "overdue-task" else m for m in registry.AGENTS),
    )
    monkeypatch.setitem(registry._BY_ID, "overdue-task", bumped)
    assert await service.agent_outputs(uid) == []
    run = await run_agent(uid, "overdue-task")
    assert run.result is not None
    assert run.result.changed is True  # a new version always counts as a new snippet
    assert [o.agent_version for o in await service.agent_outputs(uid)] == ["2.0.0"]


async def test_batched_runs_share_queries_and_all_complete() -> None:
    uids = [await _person_with_history() for _ in range(3)]
    runner = Runner.batched()
    runs = await asyncio.gather(
        *[run_agent(u, m, runner) for u in uids for m in ("time-of-day", "recent-patterns")]
    )
    assert {r.status for r in runs} == {"computed"}
    for uid in uids:
        assert len(await service.agent_outputs(uid)) == 2
    again = await run_agent(uids[0], "time-of-day")  # unbatched: no cached snapshot
    assert again.result is not None
    assert again.result.changed is False  # same history, same words


@pytest.mark.parametrize(
    ("scope", "values", "code", "field"),
    [
        ("agent:nope", {"x": 1}, "UNKNOWN_SCOPE", "scope"),
        ("agent:time-of-day", {"bedtime": 1}, "UNKNOWN_KEY", "values.bedtime"),
        ("agent:time-of-day", {"quiet_start": 25}, "INVALID_VALUE", "values.quiet_start"),
        ("agent:time-of-day", {"tz": "Mars/Olympus"}, "INVALID_VALUE", "values.tz"),
        ("agent:momentum", {"stdev": "high"}, "INVALID_VALUE", "values.stdev"),
        ("agent:momentum", {"enabled": "no"}, "INVALID_VALUE", "values.enabled"),
        ("global", {"Bad Key": 1}, "INVALID_KEY", "values.Bad Key"),
        ("global", {}, "INVALID_VALUE", "values"),
    ],
)
async def test_bad_preferences_are_rejected_whole(
    scope: str, values: dict[str, object], code: str, field: str
) -> None:
    person = await make_person(tasks=False)
    with pytest.raises(service.ProfileError) as err:
        await service.set_preferences(person.user_id, scope, values)
    assert (err.value.code, err.value.field) == (code, field)
    assert await service.preferences(person.user_id) == []


async def test_one_bad_key_rejects_the_whole_update() -> None:
    person = await make_person(tasks=False)
    with pytest.raises(service.ProfileError):
        await service.set_preferences(
            person.user_id, "agent:time-of-day", {"quiet_end": 8, "quiet_start": -1}
        )
    assert await service.preferences(person.user_id) == []


async def test_turning_an_agent_off() -> None:
    uid = await _person_with_history()
    await service.set_preferences(uid, "agent:focus-area", {"enabled": False})
    assert (await run_agent(uid, "focus-area")).reason == "turned off by the person"
