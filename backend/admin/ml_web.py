"""The ML console's pages: the decision log, one decision, the feature browser, reward analytics
(admins only; server-rendered from the same services as the admin GraphQL fields)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Response, Template

from backend.admin import feature_browser
from backend.admin import freshness as freshness_service
from backend.admin import reward_analytics as analytics_service
from backend.admin.guard import admin_or_refusal
from backend.admin.people import is_uuid
from backend.contracts.principal import Principal
from backend.identity.service import user_id_by_email
from backend.profile import service as profile
from backend.recommender import decision_browser as log
from backend.web import error_page

PAGE = 50
FILTER_KEYS = ("person", "policy", "kind", "source", "reaction", "from", "to")


class BadParam(ValueError):
    """A query parameter the page cannot read (shown as a 400 page)."""


def parse_time(text: str, end: bool = False) -> datetime | None:
    """A date (a whole UTC day; `end`: the instant after it) or an ISO time (naive: UTC)."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time.min, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadParam(f"{text!r} is not a date (YYYY-MM-DD) or an ISO time.") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def person_id(text: str) -> str | None:
    """The person named by an id or an e-mail address (None: nobody asked)."""
    text = text.strip()
    if not text:
        return None
    if "@" in text:
        found = await user_id_by_email(text)
        if found is None:
            raise BadParam(f"Nobody has the e-mail address {text}.")
        return found
    return text


async def _filters(params: dict[str, str]) -> log.DecisionFilter:
    return log.DecisionFilter(
        user_id=await person_id(params.get("person", "")),
        policy_id=params.get("policy", "").strip() or None,
        kind=params.get("kind", "").strip() or None,
        source=params.get("source", "").strip() or None,
        reaction=params.get("reaction", "").strip() or None,
        since=parse_time(params.get("from", "")),
        until=parse_time(params.get("to", ""), end=True),
    )


def _params(request: Request[Any, Any, Any], keys: tuple[str, ...]) -> dict[str, str]:
    return {k: str(request.query_params.get(k, "")) for k in keys}


@get("/admin/decisions", include_in_schema=False)
async def decisions_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """The decision log: filters, newest first, keyset paging."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    params = _params(request, FILTER_KEYS)
    try:
        f = await _filters(params)
        page = await log.decisions(f, PAGE, request.query_params.get("after") or None)
    except BadParam as err:
        return error_page("That filter cannot be read", str(err), 400)
    except log.BrowseError as err:
        return error_page("That list cannot be shown", err.message, 400)
    ids = [r.id for r in page.rows]
    shadows, reactions = await log.shadow_picks(ids), await log.reactions_of(ids)
    return Template(
        template_name="admin/decisions.html",
        context={
            "user": user,
            "page": page,
            "shadows": shadows,
            "reactions": reactions,
            "params": params,
            "reactions_allowed": log.REACTIONS,
            "next_query": urlencode({**params, "after": page.end_cursor})
            if page.has_next
            else None,
            "section": "decisions",
        },
    )


@get("/admin/decisions/{decision_id:str}", include_in_schema=False)
async def decision_page(request: Request[Any, Any, Any], decision_id: str) -> Response[Any]:
    """One decision: why, its reaction and reward, the shadows, every candidate it ranked."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    found = await log.decision(decision_id)
    if found is None:
        return error_page(
            "No such decision",
            "Nothing in the decision log has that id (it may be past the 30-day retention, "
            "or the person deleted their account).",
            404,
        )
    keys = sorted({k for c in found.candidates for k in c.features})
    return Template(
        template_name="admin/decision.html",
        context={"user": user, "d": found, "keys": keys, "section": "decisions"},
    )


def _feature_chart(s: feature_browser.FeatureSeries) -> str:
    return json.dumps(
        {
            "x": [p.served_at.strftime("%d %b %H:%M") for p in s.points],
            "series": {k: [p.features.get(k) for p in s.points] for k in s.keys},
        }
    )


@get("/admin/features", include_in_schema=False)
async def features_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """A person's scored features over time, the diff of two decisions, profile freshness."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    params = _params(request, ("person", "set", "from", "to", "a", "b"))
    context: dict[str, Any] = {
        "user": user,
        "params": params,
        "sets": ["all", *feature_browser.FEATURE_SETS],
        "section": "features",
    }
    span = freshness_service.window(14)
    context["trend_days"] = [d.strftime("%d %b") for d in span]
    context["trend"] = await freshness_service.freshness(14)
    try:
        who = await person_id(params["person"])
        since = parse_time(params["from"])
        until = parse_time(params["to"], end=True)
        if who is not None:
            if not is_uuid(who):
                raise BadParam("person is a person's id or e-mail address.")
            if not await profile.person_exists(who):
                return error_page("No such person", "Nobody with that id (or deleted).", 404)
            s = await feature_browser.series(who, params["set"] or "all", since, until)
            context.update(series=s, chart=_feature_chart(s), person_id=who)
            context["freshness"] = await feature_browser.profile_freshness(who)
            if not params["a"] and len(s.points) >= 2:
                params["a"], params["b"] = s.points[-2].decision_id, s.points[-1].decision_id
        if params["a"] and params["b"]:
            context["diff"] = await feature_browser.diff(params["a"], params["b"])
    except BadParam as err:
        return error_page("That request cannot be read", str(err), 400)
    except feature_browser.FeatureBrowserError as err:
        status = 404 if err.code == "NOT_FOUND" else 400
        return error_page("That cannot be shown", err.message, status)
    return Template(template_name="admin/features.html", context=context)


def _reward_charts(a: analytics_service.Analytics) -> str:
    groups = a.groups[:12]  # a readable chart; every group stays in the table
    return json.dumps(
        {
            "x": a.buckets,
            "reward": {g.label: [s.mean_reward for _, s in g.series] for g in groups},
            "reactions": {g.label: [s.reactions for _, s in g.series] for g in groups},
            "groups": {
                "x": [g.label for g in a.groups],
                "mean": [g.stats.mean_reward for g in a.groups],
                "low": [g.stats.ci_low for g in a.groups],
                "high": [g.stats.ci_high for g in a.groups],
            },
        }
    )


@get("/admin/rewards", include_in_schema=False)
async def rewards_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Reward analytics: over time, per slice with 95 % intervals, agreement, promotions."""
    user = await admin_or_refusal(request)
    if not isinstance(user, Principal):
        return user
    params = _params(
        request, ("group", "period", "from", "to", "person", "policy", "kind", "source")
    )
    group = params["group"] or "POLICY"
    period = params["period"] or "DAY"
    try:
        a = await analytics_service.analytics(
            group,
            period,
            parse_time(params["from"]),
            parse_time(params["to"], end=True),
            user_id=await person_id(params["person"]),
            policy_id=params["policy"] or None,
            kind=params["kind"] or None,
            source=params["source"] or None,
        )
    except BadParam as err:
        return error_page("That request cannot be read", str(err), 400)
    except analytics_service.AnalyticsError as err:
        return error_page("That cannot be shown", err.message, 400)
    return Template(
        template_name="admin/rewards.html",
        context={
            "user": user,
            "a": a,
            "params": {**params, "group": group, "period": period},
            "slices": analytics_service.SLICE_LABELS,
            "charts": _reward_charts(a),
            "section": "rewards",
        },
    )


ROUTES = [decisions_page, decision_page, features_page, rewards_page]
