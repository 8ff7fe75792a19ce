"""The model gateway's configuration: which model stands behind each alias.

Plain data, no litellm: the web app reads it too (admin pages say which model is configured),
and litellm must never be imported there (DESIGN.md §8). The format is litellm's own
`model_list` / `router_settings`, so a YAML file written for the litellm proxy works here:

    model_list:
      - model_name: tip-generator
        litellm_params: {model: ollama/qwen2.5:3b, api_base: "http://127.0.0.1:11434"}
      - model_name: tip-generator-backup
        litellm_params: {model: openai/smollm2, api_base: "http://127.0.0.1:8088/v1"}
    router_settings:
      timeout: 60
      num_retries: 1
      fallbacks: [{tip-generator: [tip-generator-backup]}]

OO_LLM_* settings override (or, without a file, define) the aliases they name. Swapping a model
is a configuration change; no code names a provider.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backend.settings import Settings, get_settings

TIP_GENERATOR = "tip-generator"
EMBEDDER = "embedder"
JUDGE = "judge"
ALIASES = (TIP_GENERATOR, EMBEDDER, JUDGE)
TEMPLATE_MODEL = "template"
"""The `model` of candidates the template writer wrote (no model configured, or a fallback)."""

# Router settings we pass through; anything else in the file is a typo worth stopping for.
ROUTER_KEYS = frozenset(
    {
        "num_retries",
        "timeout",
        "fallbacks",
        "default_fallbacks",
        "context_window_fallbacks",
        "max_fallbacks",
        "retry_after",
        "allowed_fails",
        "cooldown_time",
        "disable_cooldowns",
        "routing_strategy",
    }
)


class LlmConfigError(Exception):
    """The gateway configuration is malformed; the message says where."""


@dataclass(frozen=True)
class GatewayConfig:
    """litellm Router arguments: deployments by alias and the router's settings."""

    model_list: tuple[dict[str, Any], ...] = ()
    router_settings: dict[str, Any] = field(default_factory=dict)

    def has(self, alias: str) -> bool:
        """True when some deployment answers to `alias`."""
        return any(d["model_name"] == alias for d in self.model_list)

    def model_of(self, alias: str) -> str:
        """The litellm model of the first deployment behind `alias` ("" when none)."""
        for deployment in self.model_list:
            if deployment["model_name"] == alias:
                return str(deployment["litellm_params"]["model"])
        return ""

    def router_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `litellm.Router` (deep copies: the router mutates them)."""
        return {
            "model_list": copy.deepcopy(list(self.model_list)),
            **copy.deepcopy(self.router_settings),
        }


def _read_file(path: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise LlmConfigError(f"OO_LLM_CONFIG {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise LlmConfigError(f"OO_LLM_CONFIG {path} is not valid YAML: {err}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LlmConfigError(f"OO_LLM_CONFIG {path} must be a mapping")
    return raw


def _deployments(raw: Any, where: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise LlmConfigError(f"{where}: model_list must be a list")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        params = item.get("litellm_params") if isinstance(item, dict) else None
        name = item.get("model_name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(params, dict) or not params.get("model"):
            raise LlmConfigError(
                f"{where}: model_list[{i}] needs model_name and litellm_params.model"
            )
        out.append({**item, "litellm_params": dict(params)})
    return out


def _env_deployment(alias: str, model: str, api_base: str, api_key: str) -> dict[str, Any]:
    params: dict[str, Any] = {"model": model}
    if api_base:
        params["api_base"] = api_base
    if api_key:
        params["api_key"] = api_key
    elif model.startswith("openai/") and api_base:
        # OpenAI-compatible local servers ignore the key, but the client refuses to send none.
        params["api_key"] = "sk-local"
    return {"model_name": alias, "litellm_params": params}


def load_gateway_config(settings: Settings | None = None) -> GatewayConfig:
    """The configuration from OO_LLM_CONFIG and the OO_LLM_* settings (env wins per alias)."""
    settings = settings or get_settings()
    where = settings.llm_config or "OO_LLM_* settings"
    raw = _read_file(settings.llm_config) if settings.llm_config else {}
    unknown = set(raw) - {"model_list", "router_settings", "litellm_settings", "general_settings"}
    if unknown:
        raise LlmConfigError(f"{where}: unknown sections {sorted(unknown)}")
    deployments = _deployments(raw.get("model_list"), where)
    router = raw.get("router_settings") or {}
    if not isinstance(router, dict):
        raise LlmConfigError(f"{where}: router_settings must be a mapping")
    typos = set(router) - ROUTER_KEYS
    if typos:
        raise LlmConfigError(
            f"{where}: unknown router_settings {sorted(typos)}; known: {sorted(ROUTER_KEYS)}"
        )
    overrides: list[dict[str, Any]] = []
    if settings.llm_tip_model:
        overrides.append(
            _env_deployment(
                TIP_GENERATOR,
                settings.llm_tip_model,
                settings.llm_tip_api_base,
                settings.llm_tip_api_key,
            )
        )
    if settings.llm_tip_fallback_model:
        overrides.append(
            _env_deployment(
                f"{TIP_GENERATOR}-fallback",
                settings.llm_tip_fallback_model,
                settings.llm_tip_api_base,
                settings.llm_tip_api_key,
            )
        )
        router.setdefault("fallbacks", []).append({TIP_GENERATOR: [f"{TIP_GENERATOR}-fallback"]})
    if settings.llm_embedder:
        overrides.append(
            _env_deployment(EMBEDDER, settings.llm_embedder, settings.llm_embedder_api_base, "")
        )
    if settings.llm_judge_model:
        overrides.append(_env_deployment(JUDGE, settings.llm_judge_model, "", ""))
    replaced = {d["model_name"] for d in overrides}
    deployments = [d for d in deployments if d["model_name"] not in replaced] + overrides
    router.setdefault("timeout", settings.llm_timeout_s)
    router.setdefault("num_retries", settings.llm_retries)
    return GatewayConfig(model_list=tuple(deployments), router_settings=dict(router))


def tip_model_configured(settings: Settings | None = None) -> bool:
    """True when `tip-generator` has a model (otherwise the template writer writes tips)."""
    return load_gateway_config(settings).has(TIP_GENERATOR)
