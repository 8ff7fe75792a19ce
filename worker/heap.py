"""The worker's garbage-collector settings.

An agent pass allocates hundreds of thousands of short-lived objects a second (rows, history
events, results); with CPython's defaults the collector ran ~2,000 times for 2,000 people and
took ~40 % of the pass's CPU (bench/profile_agents.py), mostly re-scanning what the worker
imported at startup and never frees. Freezing that heap takes it out of every later
collection; a larger first-generation threshold makes young collections rarer, and a batch's
objects are mostly gone (reference counting) before one runs.
"""

from __future__ import annotations

import gc

from backend.settings import get_settings

YOUNG_THRESHOLD = 20_000
"""Allocations between young collections (CPython's default: 700)."""


def settle_heap() -> None:
    """Freeze what startup allocated and space out collections (once, after startup).

    OO_WORKER_GC=default leaves CPython's settings alone (for an A/B).
    """
    mode = get_settings().worker_gc
    if mode == "default":
        return
    gc.collect()
    gc.freeze()
    if mode != "freeze":
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
