"""arq's worker, beating: every few seconds it tells the health rollup how it is doing."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import deque
from typing import Any

from arq.worker import Worker, get_kwargs
from redis.exceptions import RedisError

from backend import heartbeat
from worker.settings import WorkerSettings

HOUR_S = 3600.0
REDIS_RETRY_S = (0.25, 0.5, 1.0, 2.0)

log = logging.getLogger("oo.worker")


class BeatingWorker(Worker):
    """A Worker that beats for the health rollup and outlives a Redis outage.

    arq calls record_health on every pass of its loop; the beat rides on it, so a worker whose
    loop is stuck stops beating — which is exactly what the rollup must see. arq lets a Redis
    error in its loop end the worker; here the pass is retried with backoff instead, so queued
    jobs run as soon as Redis is back, without anyone restarting the worker.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_failures = 0
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

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisError, OSError) as err:
            delay = REDIS_RETRY_S[min(self._redis_failures, len(REDIS_RETRY_S) - 1)]
            self._redis_failures += 1
            log.warning(
                "Redis unreachable (%s); polling again in %.1f s", type(err).__name__, delay
            )
            await asyncio.sleep(delay)
            return
        if self._redis_failures:
            log.warning("Redis is back after %d failed polls", self._redis_failures)
            self._redis_failures = 0

    def handle_sig_wait_for_completion(self, signum: signal.Signals) -> None:
        """SIGTERM/SIGINT: say what happens next, then arq stops picking and waits."""
        running = sum(not t.done() for t in self.tasks.values())
        log.info(
            "stopping on %s: no new jobs; waiting up to %d s for %d running",
            signal.Signals(signum).name,
            self._job_completion_wait,
            running,
        )
        super().handle_sig_wait_for_completion(signum)

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
