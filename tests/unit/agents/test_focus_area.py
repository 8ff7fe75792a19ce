"""focus-area: top-2 projects; themes by embeddings, or the lexical fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest

import agents.focus_area as focus_area
from agents.focus_area import MANIFEST, themes
from agents.focus_area.cluster import words
from agents.inference import run_inference
from agents.types import AgentContext
from tests.unit.agents.histories import NOW, done, history

TEXTS = [
    ("Work", "Review the pull request on billing"),
    ("Work", "Review the pull request on search"),
    ("Work", "Review pull request for the API"),
    ("Home", "Call the plumber about the tap"),
    ("Home", "Call the plumber again"),
    ("Health", "Go for a run"),
]


def _person(repeat: int = 2) -> object:
    return history(
        [
            done(NOW - timedelta(hours=i * 7 + r), project=p, content=c)
            for r in range(repeat)
            for i, (p, c) in enumerate(TEXTS)
        ]
    )


def test_cold_start() -> None:
    few = history([done(NOW - timedelta(hours=i)) for i in range(4)])
    assert run_inference(MANIFEST, few).values == {"preferred_areas": []}


def test_exactly_min_history() -> None:
    five = history([done(NOW - timedelta(hours=i), project="Home") for i in range(5)])
    assert run_inference(MANIFEST, five).values == {"preferred_areas": ["Home"]}


async def test_top_two_projects_and_lexical_themes() -> None:
    h = _person()
    result = run_inference(MANIFEST, h)  # type: ignore[arg-type]
    assert result.values["preferred_areas"] == ["Work", "Home"]
    found = await themes(h)  # type: ignore[arg-type]
    assert [(t.label, t.size) for t in found] == [
        ("review / pull", 6),
        ("call / plumber", 4),
        ("run", 2),
    ]
    snippet = await MANIFEST.compute(AgentContext(h, result.values, result.evidence))  # type: ignore[arg-type]
    assert "Work and Home" in snippet
    assert "review / pull (6×)" in snippet


async def test_embeddings_are_used_when_an_embedder_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake embedder that puts every text about people (call/plumber) apart from the rest.
    async def fake_embed(texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] if "plumber" in t else [0.0, 1.0] for t in texts]

    monkeypatch.setattr(focus_area, "embed", fake_embed)
    found = await themes(_person())  # type: ignore[arg-type]
    assert [t.size for t in found] == [8, 4]


def test_words_drop_stopwords() -> None:
    assert words("Review the pull request for the API") == ("review", "pull", "request", "api")
