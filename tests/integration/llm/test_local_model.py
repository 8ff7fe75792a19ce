"""The whole pipeline against a real local model: agents → orchestrator → litellm → llama.cpp
serving SmolLM2-135M on 127.0.0.1 → JSON gate (clarifications / fallback as the tiny model
needs) → stored candidates → served by the policy.

Skips only when llama_cpp cannot be imported (the `llm` extra; .ci/test installs it). A missing
model file with llama_cpp present is a failure, not a skip.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.llm.localmodel import (
    INSTALL_HINT,
    litellm_model,
    server_available,
    server_command,
    smollm2_path,
)
from backend.llm.orchestrator import generate
from backend.llm.prompt import ORCHESTRATOR, prompt_version
from backend.llm.stats import llm_stats
from backend.llm.tables import LlmCall, TipCandidate
from backend.recommender import service
from backend.recommender.reward import Action
from backend.recommender.tables import ServedTip
from backend.settings import get_settings
from tests.integration.llm.conftest import NOTE_AGENTS, openai_gateway, person_with_notes
from tests.support.fixtures import free_port
from tests.support.model_server import running_model_server

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        not server_available(), reason=f"llama_cpp is not importable: {INSTALL_HINT}"
    ),
]
START_TIMEOUT_S = 180
CALL_TIMEOUT_S = 300  # one answer of a 135M model on a busy 2-core machine


@pytest.fixture(scope="module")
def local_model(var_dir: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` with SmolLM2 on a free port; its OpenAI base URL."""
    port = free_port()
    log = var_dir / f"llama-server-{port}.log"
    process = subprocess.Popen(
        server_command(smollm2_path(), port, n_ctx=4096),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    with running_model_server(process, port, log, START_TIMEOUT_S) as base:
        yield base


async def test_the_pipeline_end_to_end_with_a_real_model(local_model: str) -> None:
    started = time.monotonic()
    user = await person_with_notes()  # agents ran: their notes are stored
    gateway = openai_gateway(
        litellm_model(), local_model, json_mode="schema", timeout=CALL_TIMEOUT_S
    )

    done = await generate(user.user_id, gateway, force=True)

    assert done.status == "generated"
    assert done.outcome in {"ok", "fell_back"}, "the model answered (validly or not)"
    calls = await LlmCall.select().where(LlmCall.user == user.user_id).order_by(LlmCall.attempt)
    outcomes = [c["outcome"] for c in calls]
    assert 1 <= len(outcomes) <= 3
    assert all(o == "retried" for o in outcomes[:-1])
    assert outcomes[-1] in {"ok", "fell_back"}
    assert {c["model"] for c in calls} == {litellm_model()}
    n = get_settings().llm_candidates
    assert {c["prompt_version"] for c in calls} == {prompt_version(ORCHESTRATOR, n)}
    if outcomes[-1] == "fell_back":
        assert all(c["error"] for c in calls), "each rejection says why"

    rows = (
        await TipCandidate.select().where(TipCandidate.user == user.user_id).output(load_json=True)
    )
    assert rows
    expected_model = litellm_model() if done.outcome == "ok" else "template"
    assert {r["model"] for r in rows} == {expected_model}
    if done.outcome == "ok":
        assert all(set(r["agents"]) == set(NOTE_AGENTS) for r in rows)

    # Served by the policy: the written tips are ranked with the tasks. Dismiss the tasks it
    # prefers until it serves a written one (dismissing a task also drops tips about it).
    first = await service.current_tip(user)
    assert first is not None
    logged = await ServedTip.select(ServedTip.candidates).where(ServedTip.id == first.id).first()
    assert logged is not None
    scored = (
        json.loads(logged["candidates"])
        if isinstance(logged["candidates"], str)
        else logged["candidates"]
    )
    assert any(ref.startswith("llm:") for ref in scored["refs"]), "written tips were ranked"
    tip = first
    for _ in range(12):
        if tip is None or tip.item_ref.startswith("llm:"):
            break
        await service.react(user, tip.id, Action.DISMISS, 2_000)
        tip = await service.current_tip(user)
    if tip is None:
        assert all("about" in r["detail"] for r in rows), "only tips about dismissed tasks"
        print("\nall written tips were about tasks the policy ranked higher")
        return
    assert tip.item_ref.startswith("llm:")
    assert tip.detail["model"] == expected_model
    assert tip.content in {r["content"] for r in rows}
    assert tip.explanation.get("policy_id")

    stats = {(s.model, s.prompt_version): s for s in await llm_stats()}
    mine = stats[(litellm_model(), prompt_version(ORCHESTRATOR, n))]
    assert mine.calls >= len(calls)
    assert mine.latency_p50_ms is not None
    took = ", ".join(f"{c['latency_ms'] / 1000:.1f} s" for c in calls)
    print(
        f"\nlocal model: outcome {done.outcome} after {len(calls)} call(s) ({took}); "
        f"served [{tip.kind}] {tip.content!r}; test took {time.monotonic() - started:.0f} s"
    )
