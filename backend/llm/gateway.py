"""The model gateway: one litellm Router for every alias. Workers only.

litellm is imported here and nowhere on the web path: it takes seconds to import and, unless
LITELLM_LOCAL_MODEL_COST_MAP is set first, fetches a cost map from the internet (DESIGN.md §8).
Timeouts, transport retries and fallbacks are the router's, from configuration
(backend.llm.config); this module only asks and measures.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from backend.llm.config import EMBEDDER, GatewayConfig, load_gateway_config
from backend.settings import get_settings


class GatewayError(Exception):
    """A model call failed after the router's retries and fallbacks."""

    def __init__(self, message: str, latency_ms: float = 0.0) -> None:
        super().__init__(message)
        self.latency_ms = latency_ms


@dataclass(frozen=True)
class Completion:
    """A model's answer and where it came from."""

    text: str
    model: str
    latency_ms: float


def _import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    # Our own logs say what failed; litellm's banners and debug hints would only add noise.
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    # A provider without JSON mode gets the request without it (the gate still checks).
    litellm.drop_params = True
    return litellm


class Gateway:
    """Calls by alias through one router, built on first use from the configuration."""

    def __init__(self, config: GatewayConfig | None = None, json_mode: str | None = None) -> None:
        self.config = config or load_gateway_config()
        self.json_mode = json_mode
        """object | schema | off; None: OO_LLM_JSON_MODE."""
        self._router: Any = None
        # Local model servers answer one request at a time: excess jobs wait here, not in a
        # server queue where they would time out.
        self._slots = asyncio.Semaphore(get_settings().llm_concurrency)

    def has(self, alias: str) -> bool:
        """True when the alias has a model."""
        return self.config.has(alias)

    def router(self) -> Any:
        """The litellm Router (built once)."""
        if self._router is None:
            litellm = _import_litellm()
            self._router = litellm.Router(**self.config.router_kwargs())
        return self._router

    def _answered_by(self, response: Any, alias: str) -> str:
        hidden = getattr(response, "_hidden_params", None) or {}
        model_id = hidden.get("model_id") if isinstance(hidden, dict) else None
        if model_id:
            deployment = self.router().get_deployment(model_id=str(model_id))
            if deployment is not None:
                return str(deployment.litellm_params.model)
        return self.config.model_of(alias)

    async def complete(
        self,
        alias: str,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 700,
        temperature: float = 0.4,
        schema: dict[str, Any] | None = None,
    ) -> Completion:
        """One chat completion; raises GatewayError when every try failed.

        With `schema`, the answer is asked for as JSON as OO_LLM_JSON_MODE says: `object`
        (JSON mode), `schema` (JSON mode with the schema: grammar-constrained decoding on
        llama.cpp) or `off`. The gate checks the answer either way.
        """
        extra: dict[str, Any] = {}
        mode = self.json_mode or get_settings().llm_json_mode
        if schema is not None and mode == "object":
            extra["response_format"] = {"type": "json_object"}
        elif schema is not None and mode == "schema":
            extra["response_format"] = {"type": "json_object", "schema": schema}
        router = self.router()  # built (and litellm imported) outside the measured time
        async with self._slots:
            started = time.perf_counter()
            try:
                response = await router.acompletion(
                    model=alias,
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    **extra,
                )
            except Exception as exc:  # litellm raises many types; all mean "no answer"
                latency_ms = (time.perf_counter() - started) * 1000
                raise GatewayError(f"{type(exc).__name__}: {str(exc)[:300]}", latency_ms) from exc
            latency_ms = (time.perf_counter() - started) * 1000
        text = response.choices[0].message.content or ""
        return Completion(
            text=text, model=self._answered_by(response, alias), latency_ms=latency_ms
        )

    async def embed(self, texts: list[str], alias: str = EMBEDDER) -> list[list[float]]:
        """One vector per text from the alias (the `embedder` by default)."""
        router = self.router()
        try:
            response = await router.aembedding(model=alias, input=texts)
        except Exception as exc:  # same contract as complete(): one error type
            raise GatewayError(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        return [list(map(float, item["embedding"])) for item in response.data]


_gateways: dict[int, Gateway] = {}


def worker_gateway() -> Gateway:
    """The gateway of this worker's event loop (its semaphore belongs to one loop)."""
    loop = id(asyncio.get_running_loop())
    gateway = _gateways.get(loop)
    if gateway is None:
        gateway = _gateways[loop] = Gateway()
    return gateway
