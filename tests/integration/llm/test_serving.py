"""Serving written candidates: stale ones never, revoked or silenced agents' ones never; kinds
have their own side effects (done on advice is only a reward; done on a written task closes the
task it names)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.jobs import Job, JobStatus

from backend.contracts.candidate import Candidate
from backend.integrations.service import open_items
from backend.llm.orchestrator import generate
from backend.llm.service import candidates_for, llm_candidates
from backend.llm.tables import TipCandidate
from backend.profile.service import activate_context, set_consent, upsert_context
from backend.queue import get_queue, queue_name
from backend.recommender import service
from backend.recommender.decisions import display_detail, still_relevant
from backend.recommender.features import Context, candidate_features
from backend.recommender.reward import Action
from backend.recommender.tables import ServedTip
from tests.integration.llm.conftest import gateway_for, person_with_notes, task_refs
from tests.support.openai_standin import StandIn, good_answer


async def job_status(job_id: str) -> JobStatus:
    return await Job(job_id, await get_queue(), _queue_name=queue_name()).status()


async def test_candidates_expire_and_stale_ones_are_never_served(standin: StandIn) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer()])
    await generate(user.user_id, gateway_for(standin))
    assert len(await llm_candidates(user.user_id)) == 2
    later = datetime.now(UTC) + timedelta(days=2)
    assert await llm_candidates(user.user_id, later) == [], "past their expiry"

    await TipCandidate.update(
        {TipCandidate.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(TipCandidate.user == user.user_id)
    assert await llm_candidates(user.user_id) == []
    assert await service.current_tip(user) is None, "nothing else to serve"
    views = await candidates_for(user.user_id)
    assert views
    assert all(v.expired for v in views)


async def test_expiry_never_outlives_the_notes_it_was_written_from(standin: StandIn) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer()])
    await generate(user.user_id, gateway_for(standin))
    rows = await TipCandidate.select().where(TipCandidate.user == user.user_id)
    # momentum's notes live 3 h (the shortest TTL of the contributing agents).
    for row in rows:
        assert row["expires_at"] - row["created_at"] <= timedelta(hours=3, seconds=5)


async def test_consent_revoked_after_generation_removes_that_agents_candidates(
    standin: StandIn,
) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer()])
    await generate(user.user_id, gateway_for(standin))
    assert len(await llm_candidates(user.user_id)) == 2

    await set_consent(user.user_id, "agent.momentum", False)
    assert await llm_candidates(user.user_id) == [], "every note in the prompt shaped them"
    assert await service.current_tip(user) is None
    blocked = {v.blocked for v in await candidates_for(user.user_id)}
    assert blocked == {"consent for momentum was revoked after it was written"}

    await set_consent(user.user_id, "agent.momentum", True)
    assert await llm_candidates(user.user_id) == [], "a new grant does not bring them back"


async def test_template_candidates_only_drop_the_revoked_agents_own() -> None:
    user = await person_with_notes()
    await generate(user.user_id, None)
    before = await llm_candidates(user.user_id)
    uses_time = [c for c in before if c.written and "time-of-day" in c.written.agents]
    assert uses_time, "some template tips quote time-of-day"
    await set_consent(user.user_id, "agent.time-of-day", False)
    after = await llm_candidates(user.user_id)
    assert {c.item_ref for c in after} == {c.item_ref for c in before} - {
        c.item_ref for c in uses_time
    }


async def test_an_active_context_mutes_kinds_and_silences_agents(standin: StandIn) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer(("advice", "insight"))])
    await generate(user.user_id, gateway_for(standin))
    await upsert_context(user.user_id, "deep work", silenced_kinds=["advice"])
    await activate_context(user.user_id, "deep work")
    assert [c.kind for c in await llm_candidates(user.user_id)] == ["insight"]
    await upsert_context(
        user.user_id, "deep work", silenced_agents=["focus-area"], silenced_kinds=[]
    )
    assert await llm_candidates(user.user_id) == []


async def test_done_on_advice_is_only_a_reward(standin: StandIn) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer(("advice",))])
    await generate(user.user_id, gateway_for(standin))
    tip = await service.current_tip(user)
    assert tip is not None
    assert tip.kind == "advice"
    assert tip.item_ref.startswith("llm:")
    assert tip.detail["model"] == "openai/standin-model"
    assert tip.detail["prompt_version"].startswith("v4-orchestrator-")

    reaction = await service.react(user, tip.id, Action.DONE, 40_000)
    assert reaction.reward == 1.0
    row = await ServedTip.select().where(ServedTip.id == tip.id).first()
    assert row is not None
    assert (row["kind"], row["reward"]) == ("advice", 1.0)
    assert await job_status(f"complete:{tip.id}") is JobStatus.not_found


async def test_done_on_a_written_task_closes_the_task_it_names(standin: StandIn) -> None:
    user = await person_with_notes()

    def answer(request: dict[str, Any]) -> str:
        ref = task_refs(request)[0]
        return json.dumps(
            {
                "candidates": [
                    {
                        "content": "The quarterly numbers: ten minutes now closes the loop.",
                        "kind": "task",
                        "source": "overdue-task",
                        "source_ref": ref,
                    }
                ]
            }
        )

    standin.set_script([answer])
    await generate(user.user_id, gateway_for(standin))
    (written,) = await llm_candidates(user.user_id)
    task_ref = written.task_ref
    assert task_ref.startswith("demo:")
    assert written.project == "Work", "a task shows its project"
    # Log it as served, exactly as the decision log does, whichever the policy would pick.
    features = candidate_features(written, Context(now=datetime.now(UTC)))
    row = ServedTip(
        user=user.user_id,
        item_ref=written.item_ref,
        source=written.source,
        kind=written.kind,
        content=written.content,
        project=written.project,
        detail=display_detail(written, features),
        features=features,
        candidate_count=1,
        policy_id="random",
        policy_version="1",
        score=0.0,
        propensity=1.0,
        latency_ms=1.0,
    )
    await row.save()
    tip = await service.current_tip(user)
    assert tip is not None
    assert tip.id == str(row.id)
    assert tip.detail["model"] == "openai/standin-model"

    await service.react(user, tip.id, Action.DONE, 30_000)
    job = Job(f"complete:{tip.id}", await get_queue(), _queue_name=queue_name())
    assert await job.status() is not JobStatus.not_found
    info = await job.info()
    assert info is not None
    assert info.args[1] == task_ref, "the source task is closed, not the written tip"


async def test_a_written_tip_about_a_task_goes_with_the_task(standin: StandIn) -> None:
    user = await person_with_notes()

    def answer(request: dict[str, Any]) -> str:
        ref = task_refs(request)[0]
        return json.dumps(
            {
                "candidates": [
                    {"content": "The numbers for Anna are due, send them.", "kind": "reminder",
                     "source_ref": ref},
                    {"content": "Mornings suit you best for focused work.", "kind": "insight"},
                ]
            }
        )  # fmt: skip

    standin.set_script([answer])
    await generate(user.user_id, gateway_for(standin))
    written = await llm_candidates(user.user_id)
    reminder = next(c for c in written if c.kind == "reminder")
    about = reminder.about
    assert about is not None
    items = await open_items(user.user_id)

    def kept(tasks: list[Candidate], hidden: set[str]) -> list[str]:
        return sorted(c.kind for c in still_relevant([*tasks, *written], hidden) if c.written)

    assert kept(items, set()) == ["insight", "reminder"]
    assert kept(items, {about}) == ["insight"], "snoozed"
    others = [c for c in items if c.item_ref != about]
    assert kept(others, set()) == ["insight"], "closed"
