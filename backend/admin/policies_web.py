"""The console's policies page: every policy with its live figures and off-policy evidence, and
the actions on them (promote, disable, enable as shadow, reset a person's learned state).

The page reads the admin GraphQL fields an outside tool would (`policies`, `policyEvaluation`)
by running them server-side as the signed-in admin. Its forms call the same services as the
mutations, with the same required reason and audit record: a form post carries its CSRF token
in the body, which the GraphQL mutations' header check cannot see.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.response import Response, Template

from backend.admin import policy_evaluation
from backend.admin.guard import admin_or_refusal
from backend.contracts.principal import Principal
from backend.graphql.streaming import query_result
from backend.graphql.types import missing_reason
from backend.identity.service import principal_for_user
from backend.recommender import registry, shadow_replay
from backend.recommender.policies import get_policy
from backend.recommender.state import reset_states
from backend.web import error_page

POLICIES = """query Policies {
  policies { id version status description known promotedAt
    stats { decisions servedDecisions rewardedDecisions meanReward meanRewardLow meanRewardHigh
            shadowDecisions agreedDecisions agreementRate agreedMeanReward } }
  policyEvaluation { computedAt windowDays decisions minDecisions estimator incumbentId
    incumbentValue
    policies { policyId servedDecisions servedMeanReward effectiveSampleSize clearsBar
               estimates { estimator value low high } } }
}"""

STATUSES = {"SHADOW": registry.SHADOW, "DISABLED": registry.DISABLED}


async def render_policies(
    request: Request[Any, Any, Any],
    user: Principal,
    outcome: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[Any]:
    """The page, with the outcome of an action when one was just taken."""
    result = await query_result(request, POLICIES)
    if result.errors or not result.data:
        return error_page("Policies cannot be shown", "The query failed; try again.", 500)
    evaluation = result.data["policyEvaluation"]
    ope = {p["policyId"]: p for p in evaluation["policies"]} if evaluation else {}
    return Template(
        template_name="admin/policies.html",
        context={
            "user": user,
            "policies": result.data["policies"],
            "evaluation": evaluation,
            "ope": ope,
            "outcome": outcome,
            "section": "policies",
        },
        status_code=status,
    )


@get("/admin/policies", include_in_schema=False)
async def policies_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Active, shadow and disabled policies: decisions, reward, agreement, OPE evidence."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    return await render_policies(request, user)


def _refused(
    message: str, action: str, evidence: registry.Evidence | None = None
) -> dict[str, Any]:
    return {"ok": False, "action": action, "message": message, "evidence": evidence}


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k, "")) for k in ("reason", "force", "status", "user_id", "policy_id")}


@post("/admin/policies/{policy_id:str}/promote", include_in_schema=False)
async def promote(request: Request[Any, Any, Any], policy_id: str) -> Response[Any]:
    """Promote (refused with the evidence when it does not clear the bar, unless forced)."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    form = await _form(request)
    if refused := missing_reason(form["reason"]):
        return await render_policies(request, user, _refused(refused.message, "promote"), 400)
    try:
        entry, evidence = await shadow_replay.promote(
            user.user_id, policy_id, form["force"] == "on", form["reason"].strip()
        )
    except registry.RegistryError as err:
        code = 404 if err.code == "NOT_FOUND" else 409
        return await render_policies(
            request, user, _refused(err.message, "promote", err.evidence), code
        )
    message = f"{entry.policy_id} is now the active policy."
    return await render_policies(
        request, user, {"ok": True, "action": "promote", "message": message, "evidence": evidence}
    )


@post("/admin/policies/{policy_id:str}/status", include_in_schema=False)
async def set_status(request: Request[Any, Any, Any], policy_id: str) -> Response[Any]:
    """Disable a policy, or enable it as a shadow."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    form = await _form(request)
    if form["status"] not in STATUSES:
        message = "Choose SHADOW or DISABLED (make a policy active by promoting it)."
        return await render_policies(request, user, _refused(message, "status"), 400)
    if refused := missing_reason(form["reason"]):
        return await render_policies(request, user, _refused(refused.message, "status"), 400)
    try:
        entry = await registry.set_status(
            user.user_id, policy_id, STATUSES[form["status"]], form["reason"].strip()
        )
    except registry.RegistryError as err:
        code = 404 if err.code == "NOT_FOUND" else 409
        return await render_policies(request, user, _refused(err.message, "status"), code)
    message = f"{entry.policy_id} is now {entry.status}."
    return await render_policies(
        request, user, {"ok": True, "action": "status", "message": message}
    )


@post("/admin/policies/reset", include_in_schema=False)
async def reset_state(request: Request[Any, Any, Any]) -> Response[Any]:
    """Forget what one policy (or all) learned about a person."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    form = await _form(request)
    if refused := missing_reason(form["reason"]):
        return await render_policies(request, user, _refused(refused.message, "reset"), 400)
    try:
        person_id = str(uuid.UUID(form["user_id"].strip()))
    except ValueError:
        return await render_policies(
            request, user, _refused("That is not a person's id.", "reset"), 400
        )
    if await principal_for_user(person_id, "admin") is None:  # unknown or deleted
        return await render_policies(request, user, _refused("No such person.", "reset"), 404)
    policy_id = form["policy_id"].strip() or None
    if policy_id is not None:
        try:
            get_policy(policy_id)
        except KeyError:
            message = f"No policy {policy_id!r}."
            return await render_policies(request, user, _refused(message, "reset"), 404)
    deleted = await reset_states(user.user_id, person_id, policy_id, form["reason"].strip())
    message = f"Forgot {deleted} learned state(s) of {person_id}."
    return await render_policies(request, user, {"ok": True, "action": "reset", "message": message})


@post("/admin/policies/evaluate", include_in_schema=False)
async def evaluate(request: Request[Any, Any, Any]) -> Response[Any]:
    """Recompute the off-policy evidence now."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    e = await policy_evaluation.evaluate()
    message = f"Evaluated {len(e.policies)} policies on {e.decisions} logged decisions."
    return await render_policies(
        request, user, {"ok": True, "action": "evaluate", "message": message}
    )


ROUTES = [policies_page, promote, set_status, reset_state, evaluate]
