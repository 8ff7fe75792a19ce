"""The JSON-schema gate: a model's answer becomes TipCandidates only if it is exactly right.

Anything else (not JSON, a wrong kind, an empty or overlong text, fields we did not ask for, a
task that points at no task we gave) is rejected with short reasons, which the orchestrator
sends back to the model as a clarification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

KINDS = ("task", "advice", "insight", "reminder")
MAX_CONTENT = 240
"""Characters: one tip fits a phone screen in large type."""
MAX_ERRORS = 5

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 3
"""Words (of letters) a tip needs: small models answer "..." or "1.2" in a valid shape."""


def candidate_schema(max_items: int) -> dict[str, Any]:
    """The schema of one answer: {"candidates": [TipCandidate, …]}."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["candidates"],
        "properties": {
            "candidates": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_items,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["content", "kind"],
                    "properties": {
                        "content": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_CONTENT,
                            "pattern": r"\S",
                        },
                        "kind": {"enum": list(KINDS)},
                        "source": {"type": "string", "maxLength": 50},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "source_ref": {"type": "string", "maxLength": 200},
                    },
                },
            }
        },
    }


def decoding_schema(max_items: int) -> dict[str, Any]:
    """The schema given to servers that constrain decoding with it (llama.cpp's grammar).

    Their converters accept a subset of JSON Schema (no unanchored `pattern`); what the subset
    cannot say, the gate still checks.
    """
    schema = candidate_schema(max_items)
    schema["properties"]["candidates"]["items"]["properties"]["content"].pop("pattern")
    return schema


@dataclass(frozen=True)
class Drafted:
    """One candidate that passed the gate."""

    content: str
    kind: str
    source: str
    confidence: float
    source_ref: str
    agents: tuple[str, ...] = ()
    """Agents whose notes shaped it (set by the orchestrator, not by the model)."""


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict: the candidates, or why there are none."""

    candidates: tuple[Drafted, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the answer passed."""
        return not self.errors and bool(self.candidates)


def _strip_fences(text: str) -> str:
    # Chat models wrap JSON in Markdown fences even when told not to; the fence is not content.
    return _FENCE.sub("", text.strip()).strip()


def _where(path: Any) -> str:
    parts = [str(p) for p in path]
    return "/".join(parts) if parts else "the answer"


def check(
    text: str,
    max_items: int,
    task_refs: Collection[str] | None = None,
    default_source: str = "llm",
) -> GateResult:
    """Validate a model's answer. `task_refs`: the task ids the prompt offered (None: any)."""
    try:
        doc = json.loads(_strip_fences(text))
    except json.JSONDecodeError as err:
        return GateResult(errors=(f"not JSON ({err.msg} at character {err.pos})",))
    except RecursionError:
        return GateResult(errors=("not JSON (nested too deeply)",))
    validator = Draft202012Validator(candidate_schema(max_items))
    problems = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if problems:
        return GateResult(
            errors=tuple(f"{_where(e.absolute_path)}: {e.message}" for e in problems[:MAX_ERRORS])
        )
    drafted: list[Drafted] = []
    errors: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(doc["candidates"]):
        content = " ".join(item["content"].split())
        ref = str(item.get("source_ref", "")).strip()
        if item["kind"] == "task" and task_refs is not None and ref not in task_refs:
            errors.append(
                f"candidates/{i}: a task must name one of the given task ids in source_ref"
            )
            continue
        if len(_WORD.findall(content)) < MIN_WORDS:
            errors.append(
                f"candidates/{i}: content must be a sentence to the person, not a placeholder"
            )
            continue
        if content.lower() in seen:
            continue  # a repeat is not an error, just not a second candidate
        seen.add(content.lower())
        drafted.append(
            Drafted(
                content=content,
                kind=item["kind"],
                source=str(item.get("source") or default_source).strip()[:50] or default_source,
                confidence=float(item.get("confidence", 0.5)),
                source_ref=ref,
            )
        )
    return GateResult(candidates=tuple(drafted), errors=tuple(errors[:MAX_ERRORS]))
