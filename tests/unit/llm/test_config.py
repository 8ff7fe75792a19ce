"""The gateway configuration: YAML and OO_LLM_* settings; litellm stays out of the web app."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.llm.config import LlmConfigError, load_gateway_config
from backend.settings import ROOT, Settings

YAML = """
model_list:
  - model_name: tip-generator
    litellm_params: {model: ollama/qwen2.5:3b, api_base: "http://127.0.0.1:11434"}
  - model_name: tip-generator-backup
    litellm_params: {model: openai/smollm2, api_base: "http://127.0.0.1:8088/v1"}
  - model_name: judge
    litellm_params: {model: anthropic/claude-x}
router_settings:
  timeout: 30
  num_retries: 2
  fallbacks: [{tip-generator: [tip-generator-backup]}]
"""


def settings(**kw: object) -> Settings:
    return dataclasses.replace(Settings(), **kw)  # type: ignore[arg-type]


def test_nothing_configured_means_no_tip_model() -> None:
    config = load_gateway_config(settings())
    assert not config.has("tip-generator")
    assert config.model_list == ()


def test_yaml_gives_aliases_timeouts_retries_and_fallbacks(tmp_path: Path) -> None:
    path = tmp_path / "llm.yaml"
    path.write_text(YAML)
    config = load_gateway_config(settings(llm_config=str(path)))
    assert config.model_of("tip-generator") == "ollama/qwen2.5:3b"
    assert config.model_of("judge") == "anthropic/claude-x"
    kwargs = config.router_kwargs()
    assert kwargs["timeout"] == 30
    assert kwargs["num_retries"] == 2
    assert kwargs["fallbacks"] == [{"tip-generator": ["tip-generator-backup"]}]
    assert len(kwargs["model_list"]) == 3


def test_swapping_a_model_is_configuration_only(tmp_path: Path) -> None:
    path = tmp_path / "llm.yaml"
    path.write_text(YAML)
    config = load_gateway_config(
        settings(
            llm_config=str(path),
            llm_tip_model="openai/smollm2",
            llm_tip_api_base="http://127.0.0.1:9999/v1",
        )
    )
    tip = [d for d in config.model_list if d["model_name"] == "tip-generator"]
    assert len(tip) == 1, "the setting replaces the file's deployment"
    assert tip[0]["litellm_params"] == {
        "model": "openai/smollm2",
        "api_base": "http://127.0.0.1:9999/v1",
        "api_key": "sk-local",
    }
    assert config.has("tip-generator-backup"), "the rest of the file stays"


def test_env_alone_with_fallback_and_embedder() -> None:
    config = load_gateway_config(
        settings(
            llm_tip_model="ollama/qwen2.5:7b",
            llm_tip_fallback_model="ollama/qwen2.5:1.5b",
            llm_embedder="ollama/nomic-embed-text",
            llm_timeout_s=12,
            llm_retries=0,
        )
    )
    assert config.model_of("embedder") == "ollama/nomic-embed-text"
    kwargs = config.router_kwargs()
    assert kwargs["fallbacks"] == [{"tip-generator": ["tip-generator-fallback"]}]
    assert kwargs["timeout"] == 12
    assert kwargs["num_retries"] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model_list: {a: 1}", "model_list must be a list"),
        ("model_list: [{model_name: tip-generator}]", "needs model_name and litellm_params"),
        ("router_settings: {timout: 3}", "unknown router_settings"),
        ("models: []", "unknown sections"),
        ("model_list: [", "not valid YAML"),
    ],
)
def test_malformed_files_say_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "llm.yaml"
    path.write_text(text)
    with pytest.raises(LlmConfigError, match=message):
        load_gateway_config(settings(llm_config=str(path)))


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(LlmConfigError, match="No such file"):
        load_gateway_config(settings(llm_config=str(tmp_path / "nope.yaml")))


def test_the_web_app_never_imports_litellm() -> None:
    """litellm costs seconds to import and fetches a cost map: workers only (DESIGN.md §8)."""
    code = (
        "import sys\n"
        "from backend.app import create_app\n"
        "create_app()\n"
        "import backend.schema, backend.llm.service, backend.llm.graphql\n"
        "bad = sorted(m for m in sys.modules if m == 'litellm' or m.startswith('litellm.'))\n"
        "print(len(bad))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0"


def test_the_worker_imports_litellm_only_when_a_model_is_called() -> None:
    code = "import sys\nimport worker.settings\nprint('litellm' in sys.modules)\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
