"""A stand-in OpenAI-compatible model server on 127.0.0.1: real HTTP, scripted answers.

litellm talks to it exactly as to llama.cpp, Ollama or OpenAI (`openai/<name>` + api_base), so
tests exercise the real gateway — timeouts, retries, JSON mode — with no mock of litellm.
Answers are taken from a script in order (the last one repeats); an answer may be a status
code (an HTTP error) or a callable that builds the text from the request. `delay_s` makes
every answer slow (the benchmark's "model that answers after 2 s").
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = str | int | Callable[[dict[str, Any]], str]


@dataclass
class StandIn:
    """A running stand-in server."""

    script: list[Answer]
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (with /v1)."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def set_script(self, script: Sequence[Answer]) -> None:
        """Answer these next (the last one repeats) and forget past requests."""
        with self.lock:
            self.script[:] = list(script)
            self.requests.clear()

    def next_answer(self, body: dict[str, Any]) -> Answer:
        with self.lock:
            self.requests.append(body)
            if len(self.script) > 1:
                return self.script.pop(0)
            return self.script[0]

    def stop(self) -> None:
        """Shut the server down."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def completion(text: str, model: str) -> dict[str, Any]:
    """An OpenAI chat.completion body."""
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `requests`, not logs."""

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "standin", "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/").endswith("/embeddings"):
                texts = body.get("input") or []
                texts = [texts] if isinstance(texts, str) else texts
                data = [
                    {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]}
                    for i, t in enumerate(texts)
                ]
                self._send(200, {"object": "list", "data": data, "model": body.get("model")})
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            answer = standin.next_answer(body)
            if standin.delay_s:
                time.sleep(standin.delay_s)
            if isinstance(answer, int):
                self._send(answer, {"error": {"message": f"scripted {answer}", "type": "server"}})
                return
            text = answer(body) if callable(answer) else answer
            self._send(200, completion(text, str(body.get("model") or "standin")))

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer (a timeout, a stopped worker) is not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def start_standin(script: Sequence[Answer] = ("{}",), delay_s: float = 0.0) -> StandIn:
    """Start a stand-in on a free port of 127.0.0.1."""
    standin = StandIn(script=list(script), delay_s=delay_s)
    standin.server = _Server(("127.0.0.1", 0), _handler(standin))
    standin.thread = threading.Thread(target=standin.server.serve_forever, daemon=True)
    standin.thread.start()
    return standin


def good_answer(kinds: Sequence[str] = ("advice", "insight")) -> str:
    """A valid answer with no task references (accepted for any prompt)."""
    texts = {
        "advice": "Start with the smallest thing on your list; momentum does the rest.",
        "insight": "You finish most things in the morning, so plan the hard ones early.",
        "reminder": "Something is due soon: a few minutes today saves a rush tomorrow.",
    }
    return json.dumps(
        {
            "candidates": [
                {
                    "content": texts.get(k, texts["advice"]),
                    "kind": k,
                    "source": "momentum",
                    "confidence": 0.6,
                    "source_ref": "",
                }
                for k in kinds
            ]
        }
    )
