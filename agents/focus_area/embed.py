"""Embeddings for focus-area, through the gateway's `embedder` alias (backend.contracts.embedding).

The llm domain answers with its gateway (the alias from llm.yaml or OO_LLM_EMBEDDER, with the
gateway's timeouts and retries); None when no embedder is configured or the call failed, and
focus-area falls back to lexical vectors: a theme list is a nicety, never worth a failed run.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.contracts.embedding import embed_texts


async def embed(texts: Sequence[str]) -> list[list[float]] | None:
    """One vector per text from the deployment's embedder, or None."""
    return await embed_texts(texts)
