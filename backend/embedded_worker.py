"""`oo up`'s worker, in a process of its own.

Agents, the LLM pipeline (litellm's import alone takes seconds) and a slow model would
otherwise share the web app's event loop and show up in tip latency. The child is the ordinary
`oo worker` on the same settings (SQLite file, embedded Redis socket); it dies with its parent
(parent-death signal, like the embedded Redis), logs to var/worker.log, and is stopped with
SIGTERM — it finishes its running jobs within OO_SHUTDOWN_GRACE — before Redis goes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from backend.redis import die_with_parent
from backend.settings import get_settings

WORKER_COMMAND = [sys.executable, "-c", "from backend.cli import main; main()", "worker"]


class WorkerProcess:
    """The embedded deployment's worker child."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start `oo worker` with this process's environment (the same deployment)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                WORKER_COMMAND,
                env=os.environ.copy(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                # Its own process group: Ctrl-C in the terminal reaches `oo up` only, which
                # then stops the worker in order (after the web app, before Redis).
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The worker's pid while it runs."""
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        """SIGTERM, then wait for the worker's own grace period (plus a margin), then SIGKILL."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=get_settings().shutdown_grace_s + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
