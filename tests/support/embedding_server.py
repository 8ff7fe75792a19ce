"""A real local embedding endpoint: llama.cpp (llama-cpp-python) running SmolLM2 with mean
pooling, behind OpenAI's `POST /v1/embeddings` wire format, on 127.0.0.1.

llama-cpp-python's own server cannot choose a pooling type, and a causal model without one
answers a matrix per text (one vector per token); this one pools, as embedding servers do.
Run: python -m tests.support.embedding_server --model PATH --port N [--alias NAME]
Each request is logged as one line "POST /v1/embeddings <n> inputs" on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve(model_path: str, port: int, alias: str) -> None:
    import llama_cpp

    model = llama_cpp.Llama(
        model_path=model_path,
        embedding=True,
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
        n_ctx=512,
        verbose=False,
    )
    lock = threading.Lock()  # one llama context: one request at a time

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._answer(200, {"object": "list", "data": [{"id": alias, "object": "model"}]})
            else:
                self._answer(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            if self.path != "/v1/embeddings":
                self._answer(404, {"error": {"message": "not found"}})
                return
            length = int(self.headers.get("Content-Length", "0"))
            request = json.loads(self.rfile.read(length) or b"{}")
            texts = request.get("input")
            if isinstance(texts, str):
                texts = [texts]
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                self._answer(400, {"error": {"message": "input must be a string or strings"}})
                return
            print(f"POST /v1/embeddings {len(texts)} inputs", flush=True)
            with lock:
                vectors = [model.embed(text) for text in texts]
            data = [
                {"object": "embedding", "index": i, "embedding": vector}
                for i, vector in enumerate(vectors)
            ]
            tokens = sum(len(t.split()) for t in texts)
            self._answer(
                200,
                {
                    "object": "list",
                    "model": alias,
                    "data": data,
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the one line per request above is the log

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--alias", default="smollm2-embed")
    args = parser.parse_args()
    sys.exit(serve(args.model, args.port, args.alias))
