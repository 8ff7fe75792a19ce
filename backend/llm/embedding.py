"""The gateway's `embedder` alias, offered to the agents (backend.contracts.embedding)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from backend.llm.config import EMBEDDER
from backend.llm.gateway import GatewayError, worker_gateway

log = logging.getLogger("oo.llm.embedding")


async def embed_through_gateway(texts: Sequence[str]) -> list[list[float]] | None:
    """One vector per text from the `embedder` alias; None when none is configured or the call
    failed (logged without the texts: they are the person's task titles)."""
    gateway = worker_gateway()
    if not gateway.config.has(EMBEDDER):
        return None
    try:
        vectors = await gateway.embed(list(texts))
    except GatewayError as error:
        log.warning("embedder failed (%s); callers fall back", str(error)[:200])
        return None
    if len(vectors) != len(texts):
        log.warning("embedder returned %d vectors for %d texts", len(vectors), len(texts))
        return None
    return vectors
