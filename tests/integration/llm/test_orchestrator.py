"""The orchestrator against a real HTTP model server (a scripted stand-in) through litellm:
valid answers stored, invalid ones clarified twice then replaced by template candidates, every
attempt counted; unchanged contexts are not rewritten."""

from __future__ import annotations

import json
from typing import Any

from backend.llm import template
from backend.llm.gate import check, decoding_schema
from backend.llm.orchestrator import answer_tokens, generate
from backend.llm.prompt import ORCHESTRATOR, prompt_version
from backend.llm.stats import llm_stats
from backend.llm.tables import LlmCall, TipCandidate
from backend.settings import get_settings
from tests.integration.llm.conftest import NOTE_AGENTS, gateway_for, person_with_notes, task_refs
from tests.support.openai_standin import StandIn, good_answer


async def stored(user_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await TipCandidate.select().where(TipCandidate.user == user_id).output(load_json=True)
    )
    return rows


async def calls(user_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await LlmCall.select().where(LlmCall.user == user_id).order_by(LlmCall.attempt)
    )
    return rows


def task_answer(request: dict[str, Any]) -> str:
    """A valid answer that turns the first offered task into a task tip."""
    ref = task_refs(request)[0]
    return json.dumps(
        {
            "candidates": [
                {
                    "content": "Ten minutes on the quarterly numbers now would close the loop.",
                    "kind": "task",
                    "source": "overdue-task",
                    "confidence": 0.8,
                    "source_ref": ref,
                },
                {"content": "Your mornings are your best hours.", "kind": "insight"},
            ]
        }
    )


async def test_no_model_means_template_candidates() -> None:
    user = await person_with_notes()
    done = await generate(user.user_id, None)
    assert (done.status, done.model, done.outcome) == ("generated", "template", "template")
    rows = await stored(user.user_id)
    assert len(rows) == get_settings().llm_candidates
    assert {r["model"] for r in rows} == {"template"}
    assert {r["prompt_version"] for r in rows} == {template.template_version()}
    assert len({r["kind"] for r in rows}) >= 3, "varied kinds"
    (call,) = await calls(user.user_id)
    assert (call["model"], call["outcome"]) == ("template", "ok")


async def test_a_valid_answer_is_stored_with_model_prompt_and_agents(standin: StandIn) -> None:
    user = await person_with_notes()
    standin.set_script([task_answer])
    done = await generate(user.user_id, gateway_for(standin))
    assert (done.status, done.outcome, done.attempts) == ("generated", "ok", 1)
    version = prompt_version(ORCHESTRATOR, get_settings().llm_candidates)
    rows = sorted(await stored(user.user_id), key=lambda r: r["kind"])
    assert [r["kind"] for r in rows] == ["insight", "task"]
    assert {r["model"] for r in rows} == {"openai/standin-model"}
    assert {r["prompt_version"] for r in rows} == {version}
    assert set(rows[0]["agents"]) == set(NOTE_AGENTS), "every note in the prompt contributed"
    task = rows[1]
    assert task["source_ref"].startswith("demo:")
    assert task["detail"]["task_ref"] == task["source_ref"]
    assert task["detail"]["project"] == "Work"
    assert all(r["expires_at"] > r["created_at"] for r in rows)
    (request,) = standin.requests
    assert request["response_format"] == {"type": "json_object"}
    system = request["messages"][0]["content"]
    assert "Answer with JSON only" in system
    assert "[momentum]" in request["messages"][1]["content"]


async def test_two_clarifications_then_template_fallback_all_counted(standin: StandIn) -> None:
    user = await person_with_notes()
    bad_kind = json.dumps({"candidates": [{"content": "Do it.", "kind": "chore"}]})
    extra = json.dumps({"candidates": [{"content": "Do it.", "kind": "advice", "mood": "up"}]})
    standin.set_script(["Sure! Here are some tips.", bad_kind, extra])
    done = await generate(user.user_id, gateway_for(standin))
    assert (done.outcome, done.model) == ("fell_back", "template")

    assert len(standin.requests) == 3, "one question, two clarifications"
    second, third = standin.requests[1]["messages"], standin.requests[2]["messages"]
    assert second[-2] == {"role": "assistant", "content": "Sure! Here are some tips."}
    assert "not accepted: not JSON" in second[-1]["content"]
    assert "is not one of" in third[-1]["content"]
    assert len(third) == len(second) + 2, "the whole conversation is sent again"

    logged = await calls(user.user_id)
    assert [c["outcome"] for c in logged] == ["retried", "retried", "fell_back"]
    assert {c["model"] for c in logged} == {"openai/standin-model"}
    assert "Additional properties" in logged[-1]["error"]
    assert len({c["generation"] for c in logged}) == 1
    rows = await stored(user.user_id)
    assert rows
    assert {r["model"] for r in rows} == {"template"}

    stats = {
        (s.model, s.prompt_version): s
        for s in await llm_stats()
        if s.model.endswith("standin-model")
    }
    row = stats[("openai/standin-model", logged[0]["prompt_version"])]
    assert row.calls >= 3
    assert row.fell_back >= 1
    assert row.retried >= 2
    assert row.fallback_rate is not None
    assert row.fallback_rate > 0
    assert row.latency_p50_ms is not None
    assert row.latency_p95_ms is not None


async def test_one_clarification_then_ok(standin: StandIn) -> None:
    user = await person_with_notes()
    standin.set_script(['{"candidates": [{"content": "", "kind": "advice"}]}', good_answer()])
    done = await generate(user.user_id, gateway_for(standin))
    assert (done.outcome, done.model) == ("ok", "openai/standin-model")
    assert [c["outcome"] for c in await calls(user.user_id)] == ["retried", "ok"]


async def test_a_failing_model_falls_back_at_once(standin: StandIn) -> None:
    user = await person_with_notes()
    standin.set_script([500])
    done = await generate(user.user_id, gateway_for(standin))
    assert (done.outcome, done.model) == ("error", "template")
    (call,) = await calls(user.user_id)
    assert call["outcome"] == "error"
    assert "500" in call["error"] or "InternalServerError" in call["error"]
    assert await stored(user.user_id)


async def test_an_unchanged_context_is_not_rewritten(standin: StandIn) -> None:
    user = await person_with_notes()
    standin.set_script([good_answer()])
    gateway = gateway_for(standin)
    first = await generate(user.user_id, gateway)
    assert first.status == "generated"
    again = await generate(user.user_id, gateway)
    assert again.status == "unchanged"
    assert len(standin.requests) == 1, "no model call for an unchanged context"
    forced = await generate(user.user_id, gateway, force=True)
    assert forced.status == "generated"
    assert len(standin.requests) == 2


async def test_nothing_known_writes_nothing(standin: StandIn) -> None:
    user = await person_with_notes(open_tasks=False, agents=())
    done = await generate(user.user_id, gateway_for(standin))
    assert done.status == "empty"
    assert standin.requests == []


def test_the_stand_in_answers_pass_the_gate() -> None:
    assert check(good_answer(), 4).ok


async def test_schema_mode_sends_the_decoding_schema(standin: StandIn) -> None:
    user = await person_with_notes(open_tasks=False)
    standin.set_script([good_answer()])
    await generate(user.user_id, gateway_for(standin, json_mode="schema"))
    sent = standin.requests[0]["response_format"]
    assert sent["type"] == "json_object"
    assert sent["schema"] == decoding_schema(get_settings().llm_candidates)
    assert standin.requests[0]["max_tokens"] == answer_tokens(get_settings().llm_candidates)
