"""Who serves and who shadows, kept for a moment per process (ADR 0041).

Every reaction (who learns) and every pick (who scores) asks the registry; the answer changes
a few times a year. A change made through this process (promote, set_status, the code's sync)
is seen at once; one made by another process (a replica, the CLI) within SERVING_TTL_S.
"""

from __future__ import annotations

import time

from backend.recommender.tables import PolicyRegistry

DISABLED = "disabled"  # as registry.py names it

SERVING_TTL_S = 2.0
"""How long a process reuses the registry's serving rows."""

_rows: tuple[float, list[tuple[str, str]]] | None = None


def forget_serving() -> None:
    """Read who serves anew on the next call (after a change to the registry)."""
    global _rows
    _rows = None


async def serving_rows() -> list[tuple[str, str]]:
    """(policy id, status) of every policy not disabled: one query per SERVING_TTL_S."""
    global _rows
    now = time.monotonic()
    if _rows is not None and now - _rows[0] < SERVING_TTL_S:
        return _rows[1]
    rows = await PolicyRegistry.select(PolicyRegistry.policy_id, PolicyRegistry.status).where(
        PolicyRegistry.status != DISABLED
    )
    found = [(str(r["policy_id"]), str(r["status"])) for r in rows]
    _rows = (now, found)
    return found
