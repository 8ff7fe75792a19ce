"""arq's worker, beating: every few seconds it tells the health rollup how it is doing."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from arq.worker import Worker, get_kwargs

from backend import heartbeat
from worker.settings import WorkerSettings

HOUR_S = 3600.0


class BeatingWorker(Worker):
    """A Worker whose health check also writes a heartbeat (backend/heartbeat.py).

    arq calls record_health on every pass of its loop; the beat rides on it, so a worker whose
    loop is stuck stops beating — which is exactly what the rollup must see.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._beat_at = 0.0
        # (when, failures so far), one per beat over the last hour: failures in the last
        # hour are the difference between now and the oldest sample.
        self._failure_marks: deque[tuple[float, int]] = deque()

    def figures(self) -> dict[str, int]:
        """Jobs running, done and failed (in total and in the last hour)."""
        now = time.monotonic()
        self._failure_marks.append((now, self.jobs_failed))
        while now - self._failure_marks[0][0] > HOUR_S:
            self._failure_marks.popleft()
        return {
            "jobs_running": sum(not t.done() for t in self.tasks.values()),
            "jobs_complete": self.jobs_complete,
            "jobs_failed": self.jobs_failed,
            "failed_last_hour": self.jobs_failed - self._failure_marks[0][1],
            "jobs_retried": self.jobs_retried,
        }

    async def record_health(self) -> None:
        """arq's own health key, then our beat (every heartbeat.BEAT_S)."""
        await super().record_health()
        now = time.monotonic()
        if now - self._beat_at < heartbeat.BEAT_S:
            return
        self._beat_at = now
        await heartbeat.beat("worker", self.figures())


def beating_worker(**overrides: Any) -> BeatingWorker:
    """A worker from WorkerSettings (and overrides, e.g. handle_signals=False when embedded)."""
    settings = get_kwargs(WorkerSettings)  # type: ignore[arg-type]  # arq types it as a Protocol
    return BeatingWorker(**{**settings, **overrides})
