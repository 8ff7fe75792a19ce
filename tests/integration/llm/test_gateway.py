"""The gateway's router from configuration, over real HTTP: timeouts, retries, fallbacks,
embeddings — what swapping or stacking models by configuration relies on."""

from __future__ import annotations

import pytest

from backend.llm.config import GatewayConfig
from backend.llm.gateway import Gateway, GatewayError
from tests.support.openai_standin import StandIn, good_answer, start_standin

HELLO = [{"role": "user", "content": "hello"}]


def deployment(alias: str, model: str, server: StandIn) -> dict[str, object]:
    return {
        "model_name": alias,
        "litellm_params": {"model": model, "api_base": server.base_url, "api_key": "sk-local"},
    }


async def test_a_failing_model_falls_back_to_the_configured_one(standin: StandIn) -> None:
    backup = start_standin([good_answer()])
    try:
        standin.set_script([500])
        gateway = Gateway(
            GatewayConfig(
                model_list=(
                    deployment("tip-generator", "openai/primary", standin),
                    deployment("tip-generator-backup", "openai/backup", backup),
                ),
                router_settings={
                    "num_retries": 0,
                    "timeout": 20,
                    "fallbacks": [{"tip-generator": ["tip-generator-backup"]}],
                },
            )
        )
        answer = await gateway.complete("tip-generator", HELLO, schema={})
        assert answer.model == "openai/backup", "the answer says who wrote it"
        assert len(standin.requests) == 1
        assert len(backup.requests) == 1
    finally:
        backup.stop()


async def test_transport_retries_come_from_configuration(standin: StandIn) -> None:
    standin.set_script([500, good_answer()])
    gateway = Gateway(
        GatewayConfig(
            model_list=(deployment("tip-generator", "openai/primary", standin),),
            router_settings={"num_retries": 1, "timeout": 20, "retry_after": 0},
        )
    )
    answer = await gateway.complete("tip-generator", HELLO)
    assert answer.text == good_answer()
    assert len(standin.requests) == 2


async def test_a_slow_model_times_out_as_configured(standin: StandIn) -> None:
    standin.set_script([good_answer()])
    standin.delay_s = 8.0  # far beyond the 1 s timeout, so a loaded machine cannot blur them
    gateway = Gateway(
        GatewayConfig(
            model_list=(deployment("tip-generator", "openai/slow", standin),),
            router_settings={"num_retries": 0, "timeout": 1},
        )
    )
    with pytest.raises(GatewayError, match="Timeout") as caught:
        await gateway.complete("tip-generator", HELLO)
    assert 900 < caught.value.latency_ms < 7000


async def test_embeddings_through_the_embedder_alias(standin: StandIn) -> None:
    gateway = Gateway(
        GatewayConfig(
            model_list=(deployment("embedder", "openai/nomic-embed-text", standin),),
            router_settings={"num_retries": 0, "timeout": 20},
        )
    )
    vectors = await gateway.embed(["water the plants", "tax"])
    assert vectors == [[16.0, 1.0], [3.0, 1.0]]
