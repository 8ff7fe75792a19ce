"""When generation is asked for: a changed agent note (deduped per person), the schedule, an
admin — and never in the background when OO_LLM_BACKGROUND is off."""

from __future__ import annotations

import dataclasses

import pytest
from arq.constants import job_key_prefix
from arq.jobs import Job, JobStatus

from backend.llm import jobs as llm_jobs
from backend.llm import triggers
from backend.llm.triggers import generation_job_id, request_generation
from backend.profile.jobs import compute_agent
from backend.queue import get_queue, queue_name
from backend.settings import get_settings
from tests.integration.llm.conftest import person_with_notes


async def job(user_id: str) -> Job:
    return Job(generation_job_id(user_id), await get_queue(), _queue_name=queue_name())


async def drop(user_id: str) -> None:
    """Take the queued job back out (no worker should write for this test's person)."""
    queue = await get_queue()
    await queue.zrem(queue_name(), generation_job_id(user_id))
    await queue.delete(job_key_prefix + generation_job_id(user_id))


@pytest.fixture
def background_on(monkeypatch: pytest.MonkeyPatch) -> None:
    on = dataclasses.replace(get_settings(), llm_background=True)
    monkeypatch.setattr(triggers, "get_settings", lambda: on)


@pytest.mark.usefixtures("background_on")
async def test_a_changed_note_queues_one_generation_per_person() -> None:
    user = await person_with_notes(agents=())
    await compute_agent({}, user.user_id, "time-of-day")  # first note: changed
    queued = await job(user.user_id)
    assert await queued.status() in {JobStatus.deferred, JobStatus.queued}
    info = await queued.info()
    assert info is not None
    assert info.args == (user.user_id, False)
    await compute_agent({}, user.user_id, "momentum")
    assert not await request_generation(user.user_id), "one queued job per person"
    await drop(user.user_id)


async def test_background_off_means_only_when_asked() -> None:
    assert not get_settings().llm_background, "the harness turns it off"
    user = await person_with_notes(agents=())
    await compute_agent({}, user.user_id, "time-of-day")
    assert await (await job(user.user_id)).status() is JobStatus.not_found
    result = await llm_jobs.refresh_tip_candidates({})
    assert (result["people"], result["enqueued"]) == (0, 0)
    assert await request_generation(user.user_id, delay_s=3600), "an explicit request still runs"
    await drop(user.user_id)


@pytest.mark.usefixtures("background_on")
async def test_a_batch_of_changed_notes_queues_one_deferred_generation_per_person() -> None:
    from backend.events.contracts import AgentComputed
    from backend.llm.eligibility import on_agents_computed

    people = [await person_with_notes(agents=()) for _ in range(2)]
    quiet = await person_with_notes(agents=())

    def note(changed: bool) -> AgentComputed:
        return AgentComputed(
            agent_id="momentum",
            agent_version="1",
            snippet_hash="h",
            changed=changed,
            evidence=3,
            expires_at="2030-01-01T00:00:00+00:00",
        )

    a, b = (p.user_id for p in people)
    await on_agents_computed(
        [(a, note(True)), (a, note(True)), (b, note(True)), (quiet.user_id, note(False))]
    )
    for person in people:
        queued = await job(person.user_id)
        assert await queued.status() is JobStatus.deferred, "after CHANGE_DELAY_S, like one"
        info = await queued.info()
        assert info is not None
        assert info.args == (person.user_id, False)
        assert not await request_generation(person.user_id), "the same job id: queued once"
        await drop(person.user_id)
    assert await (await job(quiet.user_id)).status() is JobStatus.not_found, "unchanged note"
