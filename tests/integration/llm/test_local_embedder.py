"""focus-area's themes through the gateway's `embedder` alias, against a real local embedding
endpoint: llama.cpp's SmolLM2 with mean pooling on 127.0.0.1, speaking OpenAI's /v1/embeddings
(tests/support/embedding_server.py).

The agent runs the real way (the profile runner → agents.focus_area → the embedding contract →
the llm domain's gateway → litellm → HTTP). Its themes must be exactly what clustering the
server's own vectors gives — so the vectors it used came from that endpoint — and without an
embedder it falls back to the lexical themes.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agents.focus_area import MAX_TEXTS, MAX_THEMES, WINDOW_DAYS
from agents.focus_area.cluster import EMBEDDING_THRESHOLD, cluster, dense_as_vectors
from backend.integrations.tables import DemoTask
from backend.llm import config as llm_config
from backend.llm import gateway as llm_gateway
from backend.llm.localmodel import INSTALL_HINT, server_available, smollm2_path
from backend.profile.runner import Runner, run_agent
from backend.settings import get_settings
from tests.support.fixtures import ROOT, free_port, make_person
from tests.support.model_server import running_model_server

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        not server_available(), reason=f"llama_cpp is not importable: {INSTALL_HINT}"
    ),
]
START_TIMEOUT_S = 180
ALIAS = "smollm2-embed"
DONE = [
    "Water the plants",
    "Water the tomatoes",
    "Repot the basil plant",
    "File the tax return",
    "Pay the tax bill",
    "Call the plumber",
    "Call mum",
    "Book the dentist",
]


@pytest.fixture(scope="module")
def embedding_server(var_dir: Path) -> Iterator[tuple[str, Path]]:
    """llama.cpp's OpenAI server in embedding mode: (base URL with /v1, its log)."""
    port = free_port()
    log = var_dir / f"llama-embed-{port}.log"
    command = [
        sys.executable,
        "-m",
        "tests.support.embedding_server",
        "--model",
        str(smollm2_path()),
        "--port",
        str(port),
        "--alias",
        ALIAS,
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    with running_model_server(process, port, log, START_TIMEOUT_S) as base:
        yield base, log


def _use_embedder(monkeypatch: pytest.MonkeyPatch, model: str, api_base: str) -> None:
    # The call's deadline is the server's start deadline: a loaded machine can take over a
    # minute to embed the batch, and a call cut short is retried by the client (two POSTs).
    settings = dataclasses.replace(
        get_settings(),
        llm_embedder=model,
        llm_embedder_api_base=api_base,
        llm_retries=0,
        llm_timeout_s=START_TIMEOUT_S,
    )
    monkeypatch.setattr(llm_config, "get_settings", lambda: settings)
    monkeypatch.setattr(llm_gateway, "_gateways", {})  # a gateway built from these settings


async def _person_who_finished(texts: list[str]) -> str:
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    await DemoTask.insert(
        *[
            DemoTask(
                user=person.user_id,
                project="Home",
                content=text,
                added_at=now - timedelta(days=i + 2),
                completed_at=now - timedelta(days=i + 1),
            )
            for i, text in enumerate(texts)
        ]
    )
    return person.user_id


def _themes_in(snippet: str) -> list[tuple[str, int]]:
    found = re.search(r"recurring themes: (.*)\.$", snippet)
    if found is None:
        return []
    return [(m[1], int(m[2])) for m in re.finditer(r"([^,]+?) \((\d+)×\)", found[1])]


async def _expected_themes(base: str, user_id: str) -> list[tuple[str, int]]:
    """What clustering the endpoint's own vectors gives for the texts the agent reads (its
    window of the person's history, most frequent first), asked directly over HTTP."""
    data = await Runner().person(user_id)
    assert data is not None
    counts = Counter(e.content for e in data[1].done_since(WINDOW_DAYS) if e.content)
    texts = [t for t, _ in counts.most_common(MAX_TEXTS)]
    async with httpx.AsyncClient(timeout=120) as client:
        answer = (
            await client.post(f"{base}/embeddings", json={"model": ALIAS, "input": texts})
        ).json()
    vectors = [item["embedding"] for item in sorted(answer["data"], key=lambda d: d["index"])]
    weights = [counts[t] for t in texts]
    found = cluster(texts, weights, dense_as_vectors(vectors), EMBEDDING_THRESHOLD)
    return [(t.label, t.size) for t in found if t.size >= 2][:MAX_THEMES]


async def test_focus_area_themes_come_from_the_local_embedder(
    embedding_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, log = embedding_server
    _use_embedder(monkeypatch, f"openai/{ALIAS}", base)
    user_id = await _person_who_finished(DONE)
    calls_before = log.read_text(errors="replace").count("POST /v1/embeddings")

    run = await run_agent(user_id, "focus-area")

    assert run.status == "computed", run
    assert run.result is not None
    log_text = log.read_text(errors="replace")
    assert log_text.count("POST /v1/embeddings") == calls_before + 1, "one batched call"
    assert _themes_in(run.result.snippet) == await _expected_themes(base, user_id), (
        run.result.snippet
    )


async def test_without_an_embedder_or_when_it_fails_the_themes_are_lexical(
    embedding_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = await _person_who_finished(DONE)
    lexical = await run_agent(user_id, "focus-area")  # nothing configured: no model call
    assert lexical.result is not None
    _use_embedder(monkeypatch, f"openai/{ALIAS}", f"http://127.0.0.1:{free_port()}/v1")
    failed = await run_agent(user_id, "focus-area")  # configured but unreachable
    assert failed.status == "computed", "a failed embedder never fails the agent"
    assert failed.result is not None
    assert failed.result.snippet == lexical.result.snippet
    # The waterings and the tax chores each share a word: the lexical fallback's themes.
    labels = [label for label, _ in _themes_in(lexical.result.snippet)]
    assert any("water" in label for label in labels), labels
    assert any("tax" in label for label in labels), labels
