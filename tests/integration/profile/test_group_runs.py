"""A group job's runs: the same words as one person's run, stored once, consent honoured
even when it is withdrawn between the group's read and its write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from backend.profile import runner as runner_module
from backend.profile import service
from backend.profile.runner import AgentRun, PersonData, Runner, run_agents, run_group
from backend.profile.tables import AgentOutput
from tests.integration.profile.helpers import awake_times, give_completions
from tests.support.fixtures import make_person


async def _people() -> list[str]:
    """Four people with different histories (and one with a setting of their own)."""
    ids = []
    for days, first, last, project in (
        (10, 7, 22, "Work"),
        (3, 9, 11, "Home"),
        (30, 18, 23, "Side"),
        (0, 0, 0, ""),
    ):
        person = await make_person()
        if days:
            await give_completions(person.user_id, awake_times(days, first, last), project=project)
        ids.append(person.user_id)
    await service.set_preferences(ids[0], "agent:time-of-day", {"quiet_start": 21})
    return ids


def _words(runs: Sequence[AgentRun]) -> list[tuple[object, ...]]:
    """What a run stores, minus its clock (and `changed`, which depends on what was stored)."""
    return [
        (r.agent_id, r.status, r.reason)
        + (
            ()
            if r.result is None
            else (
                r.result.agent_version,
                r.result.snippet,
                r.result.snippet_hash,
                r.result.params,
                r.result.inferred,
                r.result.evidence,
            )
        )
        for r in runs
    ]


async def _stored(user_ids: list[str]) -> dict[tuple[str, str], tuple[object, ...]]:
    rows = await AgentOutput.select().where(AgentOutput.user.is_in(user_ids)).output(load_json=True)
    found: dict[tuple[str, str], tuple[object, ...]] = {}
    for row in rows:
        spot = (str(row["user"]), row["agent_id"])
        assert spot not in found  # one row per person and agent
        found[spot] = (row["snippet"], row["snippet_hash"], row["params"], row["evidence"])
    return found


async def test_a_group_computes_and_stores_what_one_person_runs_do() -> None:
    ids = await _people()
    grouped = await run_group(ids)
    assert list(grouped) == ids
    stored_by_group = await _stored(ids)
    assert len(stored_by_group) == 5 * len(ids)
    for uid in ids:
        alone = await run_agents(uid, Runner())
        assert _words(alone) == _words(grouped[uid])
        assert all(r.result is not None and not r.result.changed for r in alone)
    assert await _stored(ids) == stored_by_group  # the same rows, rewritten in place


async def test_a_group_run_again_stores_nothing_twice() -> None:
    ids = await _people()
    await run_group(ids)
    again = await run_group([*ids, ids[0]])  # a retry, with a person listed twice
    assert sum(r.status == "computed" for runs in again.values() for r in runs) == 5 * len(ids)
    assert len(await _stored(ids)) == 5 * len(ids)


async def test_consent_withdrawn_after_the_groups_read_stores_nothing_for_that_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = await _people()
    shy = ids[1]
    read = runner_module.person_data

    async def read_then_withdraw(user_ids: Sequence[str]) -> dict[str, PersonData]:
        data = await read(user_ids)
        await service.set_consent(shy, "agent.focus-area", granted=False)
        return data

    monkeypatch.setattr(runner_module, "person_data", read_then_withdraw)
    runs = await run_group(ids)
    # Computed from the read before the withdrawal, dropped in the write transaction.
    assert {r.agent_id: r.status for r in runs[shy]}["focus-area"] == "computed"
    stored = await _stored(ids)
    assert (shy, "focus-area") not in stored
    assert len(stored) == 5 * len(ids) - 1
    monkeypatch.setattr(runner_module, "person_data", read)
    later = await run_group([shy])  # the next slot: the agent is skipped at run time
    assert {r.agent_id: r.reason for r in later[shy]}[
        "focus-area"
    ] == "consent agent.focus-area revoked"


async def test_unknown_and_deleted_people_are_skipped() -> None:
    from backend.identity.tables import User

    gone = await make_person()
    await User.update({User.deleted_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        User.id == gone.user_id
    )
    runs = await run_group([gone.user_id])
    assert {(r.status, r.reason) for r in runs[gone.user_id]} == {("skipped", "no such person")}
    assert await _stored([gone.user_id]) == {}
