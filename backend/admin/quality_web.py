"""The data quality and LLM quality pages (admins only; the same services as `dataQuality`
and `llmQuality`)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, get, post
from litestar.response import Response, Template

from backend.admin import actions, llm_console
from backend.admin import quality as quality_service
from backend.admin.guard import admin_or_refusal
from backend.contracts.principal import Principal
from backend.web import error_page

CHART_FEATURES = 6
"""Features drawn on the gaps chart (the most missing; the table lists them all)."""


def _quality_charts(r: quality_service.QualityReport) -> tuple[str, str]:
    days = [d.strftime("%d %b") for d in r.days]
    gaps = {
        "days": days,
        "series": {f.feature: f.rates for f in r.features[:CHART_FEATURES] if f.missing},
    }
    heat = {
        "days": days,
        "people": [c.email or c.user_id[:8] for c in r.coverage],
        "ids": [c.user_id for c in r.coverage],
        "low": quality_service.LOW_COVERAGE,
        "cells": [  # days without any signal are left blank
            [x, y, v]
            for y, c in enumerate(r.coverage)
            for x, v in enumerate(c.cells)
            if v is not None
        ],
    }
    return json.dumps(gaps), json.dumps(heat)


@get("/admin/quality", include_in_schema=False)
async def quality_page(
    request: Request[Any, Any, Any], days: str = "14", person: str = ""
) -> Response[Any]:
    """Feature gaps, stale tokens, sync failures, stale candidates, expired agent outputs, and
    the completeness heatmap."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    try:
        r = await quality_service.report(
            int(days) if days.isdigit() else -1, people=[person.strip()] if person else []
        )
    except quality_service.QualityError as err:
        return error_page("Unknown period", err.message, 400)
    gaps_chart, heat_chart = _quality_charts(r)
    return Template(
        template_name="admin/quality.html",
        context={
            "user": user,
            "r": r,
            "period": int(days),
            "person": person,
            "periods": quality_service.PERIOD_DAYS,
            "low": quality_service.LOW_COVERAGE,
            "gaps_chart": gaps_chart,
            "heat_chart": heat_chart,
            "section": "quality",
        },
    )


async def _llm_page(
    user: Principal, days: int, outcome: dict[str, Any] | None = None, status: int = 200
) -> Response[Any]:
    try:
        r = await llm_console.report(days)
    except llm_console.LlmConsoleError as err:
        return error_page("Unknown period", err.message, 400)
    writers = [f"{w.model} · {w.prompt_version}" for w in r.writers]
    latency = {
        "categories": writers,
        "series": {
            "p50 ms": [w.latency_p50_ms for w in r.writers],
            "p95 ms": [w.latency_p95_ms for w in r.writers],
        },
    }
    gates = {
        "categories": [g.reason for g in r.gate_failures[:10]],
        "series": {"Rejections": [g.count for g in r.gate_failures[:10]]},
    }
    return Template(
        template_name="admin/llm.html",
        context={
            "user": user,
            "r": r,
            "periods": llm_console.PERIOD_DAYS,
            "latency_chart": json.dumps(latency),
            "gates_chart": json.dumps(gates),
            "outcome": outcome,
            "section": "llm",
        },
        status_code=status,
    )


@get("/admin/llm", include_in_schema=False)
async def llm_page(request: Request[Any, Any, Any], days: str = "7") -> Response[Any]:
    """Calls, latency, retries, fallbacks, gate failures, reward by model and prompt."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    return await _llm_page(user, int(days) if days.isdigit() else -1)


@post("/admin/llm/regenerate", include_in_schema=False, status_code=200)
async def llm_regenerate(request: Request[Any, Any, Any]) -> Response[Any]:
    """Rewrite one person's candidates (by id or e-mail; reason required, audited)."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    form = await request.form()
    try:
        message = await llm_console.regenerate_for(
            user.user_id, str(form.get("person", "")), str(form.get("reason", ""))
        )
    except actions.ActionRefused as err:
        status = 404 if err.code == "NOT_FOUND" else 400
        return await _llm_page(user, 7, {"ok": False, "message": err.message}, status)
    return await _llm_page(user, 7, {"ok": True, "message": message})


ROUTES = [quality_page, llm_page, llm_regenerate]
