"""CPU figures of a bench run: its worker processes, its PostgreSQL backends, the machine's load."""

from __future__ import annotations

import os
import subprocess
from typing import Any


def cpu_s(procs: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds the workers have used so far (less sensitive to a busy machine than wall)."""
    import psutil

    total = 0.0
    for proc in procs:
        times = psutil.Process(proc.pid).cpu_times()
        total += times.user + times.system
    return total


def pg_cpu_s(db_name: str, before: dict[int, float] | None = None) -> Any:
    """CPU seconds of this run's PostgreSQL backends (their process title names the
    database): a mapping pid → seconds, or with `before`, the seconds used since then."""
    import psutil

    now: dict[int, float] = {}
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if db_name in " ".join(proc.info["cmdline"] or ()):
                times = proc.cpu_times()
                now[proc.pid] = times.user + times.system
        except psutil.Error:  # a backend that ended meanwhile
            continue
    if before is None:
        return now
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def load_line() -> str:
    """The machine's load averages (every figure is read next to them)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"
