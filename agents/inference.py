"""The inference framework: every inferred parameter of a manifest, never a crash."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from agents.types import History, JsonValue, Manifest

log = logging.getLogger("oo.agents.inference")


@dataclass(frozen=True)
class Inferred:
    """The values of one run and whether each was inferred or fell back to its default."""

    values: dict[str, JsonValue]
    inferred_keys: frozenset[str]
    evidence: int  # done events the inferred values rest on

    def source_of(self, key: str) -> str:
        """ "inferred" when the value came from behaviour, else "default"."""
        return "inferred" if key in self.inferred_keys else "default"


def run_inference(manifest: Manifest, history: History) -> Inferred:
    """Evaluate every inferred parameter of `manifest` on `history`.

    Below `min_history` done events every parameter takes its cold-start default. A parameter
    whose `infer` raises also takes its default, with a warning: one bad parameter (or one odd
    history) must not stop the agent, its other parameters, or the fan-out around it.
    """
    values: dict[str, JsonValue] = {}
    inferred: set[str] = set()
    enough = history.size >= manifest.min_history
    for spec in manifest.params:
        if spec.infer is None or not enough:
            values[spec.key] = spec.default(history)
            continue
        try:
            values[spec.key] = spec.infer(history)
            inferred.add(spec.key)
        except Exception:
            log.warning(
                "agent %s v%s: infer(%s) failed for user %s; using the cold-start default",
                manifest.id,
                manifest.version,
                spec.key,
                history.user_id,
                exc_info=True,
            )
            values[spec.key] = spec.default(history)
    return Inferred(values, frozenset(inferred), history.size if inferred else 0)
