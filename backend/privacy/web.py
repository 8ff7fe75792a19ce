"""Pages of the privacy domain: the data dashboard, export download, delete by category, account
deletion with a confirmation step, and the legal pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from backend.contracts.principal import Principal
from backend.identity.cookies import SESSION_COOKIE
from backend.identity.signin import providers_configured
from backend.integrations.catalog import integrations_of
from backend.privacy import service
from backend.profile import service as profile
from backend.settings import get_settings
from backend.web import error_page, page_user, sign_in_redirect


def when(value: datetime | None) -> str:
    """A timestamp as people read it (UTC, to the minute)."""
    if value is None:
        return "never"
    return value.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


async def _stored_context(user: Principal, notice: str = "") -> dict[str, Any]:
    categories = [
        {
            "key": v.category.key,
            "label": v.category.label,
            "description": v.category.description,
            "deletable": v.category.deletable,
            "rows": v.rows,
            "count": v.count,
            "counted": v.counted,
            "last_updated": when(v.last_updated),
        }
        for v in await service.data_summary(user.user_id)
    ]
    return {"categories": categories, "notice": notice}


@get("/data", include_in_schema=False)
async def data_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """What oO stores and computes about me, with export and delete."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    computed = [
        {"title": c.title, "facts": c.facts, "updated_at": when(c.updated_at)}
        for c in await service.computed(user.user_id)
    ]
    apps = [
        {"name": i.name, "since": when(i.last_sync_at) if i.last_sync_at else ""}
        for i in await integrations_of(user.user_id)
        if i.connected
    ]
    consents = [
        {"document": c.document, "version": c.version, "at": when(c.accepted_at)}
        for c in await service.consents(user.user_id)
    ]
    return Template(
        template_name="privacy/data.html",
        context={
            **await _stored_context(user),
            "computed": computed,
            "apps": apps,
            "consents": consents,
            "contributes": await profile.learns_from_everyone(user.user_id),
            "retention_days": get_settings().tip_log_retention_days,
            "email": user.email,
        },
    )


@get("/data/export", include_in_schema=False)
async def export_download(request: Request[Any, Any, Any]) -> Response[Any]:
    """My data as a JSON file."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    document = await service.export_user_data(user.user_id)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(
        content=json.dumps(document, indent=2, ensure_ascii=False).encode(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="oo-export-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )


@post("/data/delete/{category:str}", include_in_schema=False)
async def delete_category(request: Request[Any, Any, Any], category: str) -> Template | Redirect:
    """Delete one category; htmx gets the refreshed list back, others a redirect."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    found = service.get_category(category)
    if found is None or not found.deletable:
        return error_page("Not here", "There is no such kind of data to delete.", 404)
    counts = await service.delete_category(user.user_id, category)
    removed = sum(counts.values())
    if request.headers.get("hx-request") != "true":
        return Redirect(path="/data", status_code=303)
    # Stored rows are not what a person counts (ADR 0025): say what happened, not how many rows.
    notice = f"{found.label}: " + ("deleted." if removed else "there was nothing to delete.")
    return HTMXBlockTemplate(
        template_name="privacy/data.html",
        block_name="stored",
        context=await _stored_context(user, notice),
    )


@get("/data/delete-account", include_in_schema=False)
async def delete_account_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The confirmation step before deleting the account."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    return Template(
        template_name="privacy/delete_account.html",
        context={"email": user.email, "error": "", "typed": ""},
    )


@post("/data/delete-account", include_in_schema=False)
async def delete_account(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Delete the account once the person typed their e-mail or DELETE."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    if not service.confirmation_matches(user.email, data.get("confirm", "")):
        return Template(
            template_name="privacy/delete_account.html",
            context={
                "email": user.email,
                "error": "That does not match. Type your e-mail address or DELETE.",
                "typed": data.get("confirm", "")[:200],
            },
            status_code=400,
        )
    await service.delete_account(user.user_id)
    response = Template(template_name="privacy/deleted.html")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/legal/terms", include_in_schema=False)
async def terms_page() -> Template:
    """The Terms of use."""
    return Template(
        template_name="legal/terms.html",
        context={"version": service.LEGAL_DOCUMENTS["terms"], "sign_in": sign_in_methods()},
    )


@get("/legal/privacy", include_in_schema=False)
async def privacy_page() -> Template:
    """The Privacy notice."""
    return Template(
        template_name="legal/privacy.html",
        context={
            "version": service.LEGAL_DOCUMENTS["privacy"],
            "retention_days": get_settings().tip_log_retention_days,
            "sign_in": sign_in_methods(),
        },
    )


def sign_in_methods() -> str:
    """How people sign in on this server, in words: only what is configured is promised."""
    configured = providers_configured()
    methods = [name for key, name in (("google", "Google"), ("apple", "Apple")) if configured[key]]
    if get_settings().demo_enabled:
        methods.append("the demo button")
    methods.append("a one-time sign-in link")
    if len(methods) == 1:
        return methods[0]
    return ", ".join(methods[:-1]) + " or " + methods[-1]


ROUTES = [
    data_page,
    export_download,
    delete_category,
    delete_account_page,
    delete_account,
    terms_page,
    privacy_page,
]
