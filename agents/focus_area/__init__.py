"""focus-area: which areas of life the person is putting effort into.

- preferred_areas: the two projects with the most completions in the last 90 days.
- The snippet also names themes: the person's recent completed task texts grouped by
  similarity (embeddings from the `embedder` alias when configured, else the lexical fallback
  documented in `agents.focus_area.cluster`: grouping by shared content words).
"""

from __future__ import annotations

from collections import Counter

from agents.focus_area.cluster import (
    EMBEDDING_THRESHOLD,
    Theme,
    cluster,
    dense_as_vectors,
    keyword_themes,
)
from agents.focus_area.embed import embed
from agents.types import AgentContext, History, Manifest, ParamSpec

WINDOW_DAYS = 90
MAX_TEXTS = 30  # the most frequent distinct texts: enough for themes, bounded cost per run
MAX_THEMES = 3


def infer_preferred_areas(history: History) -> list[str]:
    """Top-2 projects by completions (ties by name)."""
    counts = Counter(e.project for e in history.done_since(WINDOW_DAYS) if e.project)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [name for name, _ in ranked[:2]]


async def themes(history: History) -> list[Theme]:
    """Themes of recent completions, largest first (only those with two or more)."""
    counts = Counter(e.content for e in history.done_since(WINDOW_DAYS) if e.content)
    texts = [t for t, _ in counts.most_common(MAX_TEXTS)]
    if not texts:
        return []
    weights = [counts[t] for t in texts]
    embeddings = await embed(texts)
    if embeddings is None:
        return keyword_themes(texts, weights, MAX_THEMES)
    found = cluster(texts, weights, dense_as_vectors(embeddings), EMBEDDING_THRESHOLD)
    return [t for t in found if t.size >= 2][:MAX_THEMES]


async def compute(ctx: AgentContext) -> str:
    """The snippet: the preferred areas and the recurring themes."""
    areas = [str(a) for a in ctx.params["preferred_areas"] or []]
    found = await themes(ctx.history)
    if not areas and not found:
        return "Focus: no clear area of focus yet."
    parts = []
    if areas:
        parts.append(f"most of their effort goes to {' and '.join(areas)}")
    if found:
        parts.append("recurring themes: " + ", ".join(f"{t.label} ({t.size}×)" for t in found))
    return "Focus: " + "; ".join(parts) + "."


MANIFEST = Manifest(
    id="focus-area",
    name="Focus area",
    version="1.0.0",
    description="Which areas of your life get your effort, and the themes in what you finish.",
    consent_key="agent.focus-area",
    ttl_s=24 * 3600,
    schedule="every 15 minutes",
    min_history=5,
    params=(
        ParamSpec(
            "preferred_areas",
            "Where most of your effort goes",
            [],
            infer_preferred_areas,
        ),
    ),
    compute=compute,
)
