"""A local model server started by a test: wait until it answers, stop it afterwards."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def running_model_server(
    process: subprocess.Popen[bytes], port: int, log: Path, start_timeout_s: float
) -> Iterator[str]:
    """Its OpenAI base URL (with /v1) once GET /v1/models answers; stopped on exit."""
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + start_timeout_s
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"model server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"model server not up in {start_timeout_s} s")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
