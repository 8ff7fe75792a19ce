"""Embeddings through litellm's `embedder` alias — workers only.

litellm is imported here, inside the call, and only when a model is configured: it takes
seconds to import and would otherwise fetch a cost map from the internet at import time
(LITELLM_LOCAL_MODEL_COST_MAP=True stops that). Any failure returns None, and focus-area falls
back to lexical vectors: a theme list is a nicety, never worth a failed agent run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from backend.settings import get_settings

log = logging.getLogger("oo.agents.focus_area")
TIMEOUT_S = 10.0


async def embed(texts: Sequence[str]) -> list[list[float]] | None:
    """One vector per text from the configured embedder, or None (none configured / failed)."""
    settings = get_settings()
    if not settings.llm_embedder or not texts:
        return None
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    try:
        import litellm

        response = await litellm.aembedding(
            model=settings.llm_embedder,
            input=list(texts),
            api_base=settings.llm_embedder_api_base or None,
            timeout=TIMEOUT_S,
        )
        vectors = [list(map(float, item["embedding"])) for item in response.data]
    except Exception:
        log.warning(
            "embedder %s failed; using lexical themes", settings.llm_embedder, exc_info=True
        )
        return None
    if len(vectors) != len(texts):
        log.warning("embedder returned %d vectors for %d texts", len(vectors), len(texts))
        return None
    return vectors
