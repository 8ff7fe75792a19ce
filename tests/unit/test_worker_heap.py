"""The worker's collector settings: frozen startup heap, rarer young collections, or CPython's."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

import worker.heap as heap


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def _mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(heap, "get_settings", lambda: SimpleNamespace(worker_gc=mode))


@pytest.mark.parametrize(
    ("mode", "frozen", "young"),
    [("tuned", True, heap.YOUNG_THRESHOLD), ("freeze", True, None), ("default", False, None)],
)
def test_settle_heap(
    monkeypatch: pytest.MonkeyPatch, mode: str, frozen: bool, young: int | None
) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    _mode(monkeypatch, mode)
    heap.settle_heap()
    assert (gc.get_freeze_count() > 0) is frozen
    assert gc.get_threshold() == ((young, *before[1:]) if young else before)
