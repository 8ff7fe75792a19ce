"""Text embeddings for the floors below the domains (agents), through the llm domain's gateway.

Agents may not import a domain (DESIGN.md §2); the llm domain registers its gateway's
`embedder` alias here when the composer installs it, and the focus-area agent asks through this
port. With nothing registered, or no embedder configured, the answer is None and callers fall
back to what they do without a model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

EmbedTexts = Callable[[Sequence[str]], Awaitable[list[list[float]] | None]]
"""texts → one vector per text, or None (no embedder configured, or it failed)."""


class _Registry:
    embed: EmbedTexts | None = None


def register_embedder(embed: EmbedTexts) -> None:
    """Offer the deployment's embedder (registering again replaces)."""
    _Registry.embed = embed


async def embed_texts(texts: Sequence[str]) -> list[list[float]] | None:
    """One vector per text from the registered embedder, or None."""
    if _Registry.embed is None or not texts:
        return None
    return await _Registry.embed(texts)
