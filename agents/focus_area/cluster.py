"""Grouping task texts into themes.

With an `embedder` model configured: leader clustering of the embeddings — a text joins the
most similar cluster when the cosine similarity to its centroid reaches 0.75, else starts a new
one (`cluster`).

The lexical fallback, used whenever no embedder is configured (the embedded default and the
tests), groups by shared content words (`keyword_themes`): a text's content words are its
words of three letters or more, lower-cased, minus common English and task words; the word
carried by the most completions (ties: the word seen first) makes a theme of every text that
contains it; those texts leave the pool and the next theme is found the same way. It is linear
in the number of texts, which matters when a worker runs thousands of agents a second, and it
names themes the way people would ("review / pull", "call / plumber").

Either way a theme is labelled by its heaviest words, so it reads the same whichever built it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

EMBEDDING_THRESHOLD = 0.75
_STOPWORDS_TEXT = """
    the and for with from into onto about after before over under this that these those then
    than your you our their his her its are was were been being have has had will would
    should could can may might must shall not but all any some each every few more most other
    such only own same very just also new next last week weeks day days today tomorrow
    minutes minute hour hours follow-up follow up get got make made take put set out off
    """
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD = re.compile(r"[a-z][a-z'-]{2,}")

Vector = dict[str, float]


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The content words of a text (cached: the same titles come back again and again)."""
    return tuple(w.strip("'-") for w in _WORD.findall(text.lower()) if w not in STOPWORDS)


def dense_as_vectors(embeddings: Sequence[Sequence[float]]) -> list[Vector]:
    """Embeddings as normalised sparse-style vectors, so one clustering serves both."""
    out: list[Vector] = []
    for emb in embeddings:
        norm = math.sqrt(sum(x * x for x in emb)) or 1.0
        out.append({str(i): x / norm for i, x in enumerate(emb)})
    return out


def _dot(a: Vector, b: Vector) -> float:
    return sum(v * b.get(k, 0.0) for k, v in a.items())


@dataclass
class Theme:
    """A cluster of similar task texts."""

    label: str
    size: int  # completions in it (a text done twice counts twice)
    examples: tuple[str, ...]


def cluster(
    texts: Sequence[str], weights: Sequence[int], vectors: Sequence[Vector], threshold: float
) -> list[Theme]:
    """Leader clustering of distinct texts; themes by size, largest first."""
    # Each cluster keeps the sum of its member vectors and that sum's squared norm, so a
    # comparison touches only the new text's few dimensions; an inverted index (dimension →
    # clusters using it) skips clusters that share nothing and so cannot reach the threshold.
    sums: list[Vector] = []
    norms2: list[float] = []
    members: list[list[int]] = []
    index: dict[str, set[int]] = {}
    for i, vec in enumerate(vectors):
        best, best_sim, best_dot = -1, threshold, 0.0
        candidates = set().union(*(index.get(k, ()) for k in vec)) if vec else set()
        for c in sorted(candidates):
            dot = _dot(vec, sums[c])
            sim = dot / math.sqrt(norms2[c]) if norms2[c] > 0 else 0.0
            if sim >= best_sim:
                best, best_sim, best_dot = c, sim, dot
        if best < 0:
            best = len(sums)
            sums.append({})
            norms2.append(0.0)
            members.append([])
        members[best].append(i)
        total = sums[best]
        norms2[best] += 2 * best_dot + sum(v * v for v in vec.values())
        for key, v in vec.items():
            total[key] = total.get(key, 0.0) + v
            index.setdefault(key, set()).add(best)
    themes: list[Theme] = []
    for group in members:
        ordered = sorted(group, key=lambda i: -weights[i])
        themes.append(
            Theme(
                label=_label(texts, weights, group),
                size=sum(weights[i] for i in group),
                examples=tuple(texts[i] for i in ordered[:2]),
            )
        )
    themes.sort(key=lambda t: (-t.size, t.label))
    return themes


def _label(texts: Sequence[str], weights: Sequence[int], group: Sequence[int]) -> str:
    weight: Counter[str] = Counter()
    for i in group:
        for w in words(texts[i]):
            weight[w] += weights[i]
    return " / ".join(w for w, _ in weight.most_common(2)) or texts[group[0]][:40]


def keyword_themes(texts: Sequence[str], weights: Sequence[int], limit: int = 3) -> list[Theme]:
    """The lexical fallback (see the module docstring); themes by size, largest first."""
    pool = list(range(len(texts)))
    distinct = [dict.fromkeys(words(t)) for t in texts]  # each text's words, once each
    themes: list[Theme] = []
    while pool and len(themes) < limit:
        weight: Counter[str] = Counter()  # insertion order = first seen: the tie-break
        for i in pool:
            for w in distinct[i]:
                weight[w] += weights[i]
        if not weight:
            break
        best, size = weight.most_common(1)[0]
        if size < 2:
            break
        group = [i for i in pool if best in distinct[i]]
        ordered = sorted(group, key=lambda i: -weights[i])
        themes.append(
            Theme(
                label=_label(texts, weights, group),
                size=size,
                examples=tuple(texts[i] for i in ordered[:2]),
            )
        )
        taken = set(group)
        pool = [i for i in pool if i not in taken]
    return themes
