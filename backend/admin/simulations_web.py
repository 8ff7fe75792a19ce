"""The console's simulations page: start a run from a form, follow it live, read what it found.

Reads run the admin GraphQL fields (`simulations`, `simulationRun`) server-side as the signed-in
admin; the live progress runs the `simulation(id)` subscription itself and streams each result
as an HTML fragment over SSE, as the event tail does (ADR 0019). When the run ends, one more
message (`finished`) carries its results, and the page closes the stream. Forms call the same
services as the mutations (a form post carries its CSRF token in the body, which the GraphQL
mutations' header check cannot see).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Response, ServerSentEvent, ServerSentEventMessage, Template

from backend.admin.guard import admin_or_refusal
from backend.contracts.principal import Principal
from backend.graphql.streaming import query_result, subscription_results
from backend.graphql.types import missing_reason
from backend.recommender.policies import all_policies
from backend.simulation import service, store
from backend.simulation.metrics import CURVE_POINTS
from backend.simulation.personas import all_personas
from backend.simulation.runner import DEFAULT_POLICIES, SimConfig
from backend.web import error_page

RUN_FIELDS = """id status source config summary done total error createdAt startedAt finishedAt
  results { policyId decisions meanReward ciLow ciHigh pctOracle regret }"""
RUNS = f"""query Runs($after: String) {{ simulations(first: 20, after: $after) {{
  edges {{ node {{ {RUN_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
RUN = f"query Run($id: ID!) {{ simulationRun(id: $id) {{ {RUN_FIELDS} }} }}"
FOLLOW = """subscription Follow($id: ID!) {
  simulation(id: $id) { id status done total policyId meanReward error }
}"""
TERMINAL = ("FINISHED", "FAILED")
FORM_DEFAULTS = {"users_per_persona": 1, "decisions": 200, "seed": 0}


def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> str:
    engine = request.app.template_engine
    if engine is None:  # create_app always configures one
        raise RuntimeError("no template engine")
    return str(engine.get_template(template).render(**context))


def results_context(run: dict[str, Any]) -> dict[str, Any]:
    """What the results fragment shows: the curve chart's data and the persona × policy table."""
    policies: dict[str, Any] = (run.get("summary") or {}).get("policies", {})
    personas: list[str] = (run.get("summary") or {}).get("personas", [])
    curves = {pid: s.get("curve", []) for pid, s in policies.items()}
    points = max((len(c) for c in curves.values()), default=CURVE_POINTS)
    labels = [f"{(i + 1) * 100 // points}%" for i in range(points)]
    grid = {
        persona: {pid: s.get("personas", {}).get(persona, {}) for pid, s in policies.items()}
        for persona in personas
    }
    return {
        "run": run,
        "curves": curves,
        "labels": labels,
        "chart": json.dumps({"labels": labels, "series": curves}),
        "personas": personas,
        "grid": grid,
        "policy_ids": list(policies),
    }


async def _runs(request: Request[Any, Any, Any], after: str) -> dict[str, Any] | None:
    result = await query_result(request, RUNS, {"after": after or None})
    return None if result.errors or not result.data else result.data["simulations"]


async def render_index(
    request: Request[Any, Any, Any],
    user: Principal,
    after: str = "",
    form: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> Response[Any]:
    """The form and the past runs."""
    runs = await _runs(request, after)
    if runs is None:
        return error_page("Simulations cannot be shown", "The query failed; try again.", 500)
    return Template(
        template_name="admin/simulations.html",
        context={
            "user": user,
            "runs": [e["node"] for e in runs["edges"]],
            "page": runs["pageInfo"],
            "policies": [p.id for p in all_policies()],
            "personas": all_personas(),
            "form": form or {**FORM_DEFAULTS, "policies": list(DEFAULT_POLICIES), "personas": []},
            "error": error,
            "section": "simulations",
        },
        status_code=status,
    )


@get("/admin/simulations", include_in_schema=False)
async def simulations_page(request: Request[Any, Any, Any], after: str = "") -> Response[Any]:
    """Start a run; the runs so far with their parameters, newest first."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    return await render_index(request, user, after)


@post("/admin/simulations", include_in_schema=False)
async def start(request: Request[Any, Any, Any]) -> Response[Any]:
    """Queue a run from the form, then open its page (the form again, with why, if refused)."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    raw = await request.form()
    form: dict[str, Any] = {
        "policies": [str(p) for p in raw.getall("policies", [])],
        "personas": [str(p) for p in raw.getall("personas", [])],
    }
    try:
        for name in FORM_DEFAULTS:
            form[name] = int(str(raw.get(name, "")).strip())
    except ValueError:
        form.update({k: form.get(k, v) for k, v in FORM_DEFAULTS.items()})
        message = "Users per persona, decisions and seed must be whole numbers."
        return await render_index(request, user, form=form, error=message, status=400)
    if not form["policies"]:
        message = "Choose at least one policy."
        return await render_index(request, user, form=form, error=message, status=400)
    config = SimConfig(
        policies=tuple(form["policies"]),
        personas=tuple(form["personas"]),
        seed=form["seed"],
        users_per_persona=form["users_per_persona"],
        decisions=form["decisions"],
    )
    try:
        view = await service.start(config, user.user_id)
    except ValueError as err:
        return await render_index(request, user, form=form, error=str(err), status=400)
    return Redirect(f"/admin/simulations/{view.id}", status_code=303)


async def render_run(
    request: Request[Any, Any, Any],
    user: Principal,
    run_id: str,
    outcome: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[Any]:
    """One run: live progress while it goes, its results once it ended."""
    if store.parse_run_id(run_id) is None:
        return error_page("No such simulation", "That is not a simulation's id.", 404)
    result = await query_result(request, RUN, {"id": run_id})
    if result.errors or not result.data:
        return error_page("The simulation cannot be shown", "The query failed; try again.", 500)
    run = result.data["simulationRun"]
    if run is None:
        return error_page("No such simulation", "No run has that id (old runs are purged).", 404)
    return Template(
        template_name="admin/simulation.html",
        context={
            "user": user,
            "outcome": outcome,
            "live": run["status"] not in TERMINAL,
            "section": "simulations",
            **results_context(run),
        },
        status_code=status,
    )


@get("/admin/simulations/{run_id:str}", include_in_schema=False)
async def run_page(request: Request[Any, Any, Any], run_id: str) -> Response[Any]:
    """A run's page."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    return await render_run(request, user, run_id)


@get("/admin/simulations/{run_id:str}/stream", include_in_schema=False)
async def run_stream(
    request: Request[Any, Any, Any], run_id: str
) -> Response[Any] | ServerSentEvent:
    """Server-sent events: the progress (`progress`) on every update, then the results
    (`finished`) once the run ended."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user

    async def updates() -> AsyncIterator[ServerSentEventMessage]:
        async for result in subscription_results(request, FOLLOW, {"id": run_id}):
            if result.errors:
                message = result.errors[0].message
                yield ServerSentEventMessage(
                    event="finished",
                    data=_render(request, "admin/_tail_error.html", message=message),
                )
                return
            p = (result.data or {})["simulation"]
            yield ServerSentEventMessage(
                event="progress", data=_render(request, "admin/_sim_progress.html", p=p)
            )
            if p["status"] in TERMINAL:
                run = (await query_result(request, RUN, {"id": run_id})).data or {}
                if run.get("simulationRun"):
                    context = results_context(run["simulationRun"])
                    yield ServerSentEventMessage(
                        event="finished",
                        data=_render(request, "admin/_sim_results.html", **context),
                    )
                return

    return ServerSentEvent(updates(), headers={"Cache-Control": "no-store"})


@post("/admin/simulations/{run_id:str}/cancel", include_in_schema=False)
async def cancel(request: Request[Any, Any, Any], run_id: str) -> Response[Any]:
    """Stop a queued or running run (reason required, audit-logged)."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    reason = str((await request.form()).get("reason", ""))
    if refused := missing_reason(reason):
        outcome = {"ok": False, "message": refused.message}
        return await render_run(request, user, run_id, outcome, 400)
    try:
        await service.cancel(run_id, user.user_id, reason.strip())
    except service.CancelRefused as err:
        if err.code == "NOT_FOUND":
            return error_page("No such simulation", "No run has that id.", 404)
        return await render_run(request, user, run_id, {"ok": False, "message": err.message}, 409)
    outcome = {"ok": True, "message": "Cancelled: the run stops at its next progress step."}
    return await render_run(request, user, run_id, outcome)


ROUTES = [simulations_page, start, run_page, run_stream, cancel]
