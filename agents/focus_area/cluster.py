"""Grouping task texts into themes: vectors (embeddings or lexical) and leader clustering.

The lexical fallback, used whenever no `embedder` model is configured (the embedded default
and the tests): each distinct text becomes a TF-IDF vector over its content words (lower-cased,
three letters or more, common English and task words removed); texts join the most similar
existing cluster when the cosine similarity reaches a threshold (0.3 lexical, 0.75 for
embeddings, whose cosines run higher), else start a new one. Clusters are named by their
heaviest words in either case, so a theme reads the same whichever vectors built it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

LEXICAL_THRESHOLD = 0.3
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


def lexical_vectors(texts: Sequence[str]) -> list[Vector]:
    """TF-IDF vectors, L2-normalised, over this person's texts."""
    docs = [Counter(words(t)) for t in texts]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)
    vectors: list[Vector] = []
    for doc in docs:
        vec = {w: tf * (math.log((1 + n) / (1 + df[w])) + 1) for w, tf in doc.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({w: v / norm for w, v in vec.items()})
    return vectors


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
        weight: Counter[str] = Counter()
        for i in group:
            for w in words(texts[i]):
                weight[w] += weights[i]
        label = " / ".join(w for w, _ in weight.most_common(2)) or texts[group[0]][:40]
        ordered = sorted(group, key=lambda i: -weights[i])
        themes.append(
            Theme(
                label=label,
                size=sum(weights[i] for i in group),
                examples=tuple(texts[i] for i in ordered[:2]),
            )
        )
    themes.sort(key=lambda t: (-t.size, t.label))
    return themes
