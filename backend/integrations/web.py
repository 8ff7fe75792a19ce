"""The Connect page (HTMX) and the incoming webhooks (Todoist's and the generic signed one)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from backend.integrations import connect, lifecycle, service, webhook_source
from backend.integrations.catalog import integrations_of
from backend.integrations.errors import SourceError
from backend.queue import enqueue
from backend.redis import get_redis, key
from backend.settings import get_settings
from backend.web import error_page, page_user, sign_in_redirect

SYNC_NOW_TIMEOUT_S = 15.0
DELIVERY_DEDUPE_S = 3 * 24 * 3600


async def _connect_page(request: Request[Any, Any, Any], user_id: str, **extra: Any) -> Template:
    context = {"integrations": await integrations_of(user_id), **extra}
    if request.headers.get("hx-request") == "true":
        return HTMXBlockTemplate(template_name="connect.html", block_name="list", context=context)
    return Template(template_name="connect.html", context=context)


@get("/connect", include_in_schema=False)
async def connect_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Integrations with their status; connect, disconnect, sync now."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    return await _connect_page(request, user.user_id)


@get("/integrations/{source:str}/connect", include_in_schema=False)
async def start_connect(request: Request[Any, Any, Any], source: str) -> Response[Any]:
    """Off to the provider's consent page."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    try:
        return Redirect(path=await connect.authorize_url(user.user_id, source), status_code=302)
    except SourceError as err:
        return error_page("Cannot connect yet", err.reason, 400)


@get("/integrations/{source:str}/callback", include_in_schema=False)
async def finish_connect(
    request: Request[Any, Any, Any], source: str, code: str | None = None
) -> Response[Any]:
    """Back from the provider: keep the tokens, sync once, show the Connect page."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    try:
        await connect.complete(user.user_id, source, code, request.query_params.get("state"))
    except SourceError as err:
        return error_page("Not connected", err.reason, 400)
    await lifecycle.start_first_sync(user.user_id, source)
    return Redirect(path="/connect", status_code=303)


@post("/integrations/{source:str}/disconnect", include_in_schema=False)
async def disconnect(request: Request[Any, Any, Any], source: str) -> Response[Any]:
    """Revoke and forget."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    if source in connect.OAUTH_SOURCES:
        await lifecycle.disconnect(user.user_id, source)
    return await _connect_page(request, user.user_id)


@post("/integrations/{source:str}/sync", include_in_schema=False)
async def sync_now(request: Request[Any, Any, Any], source: str) -> Response[Any]:
    """Sync one source now and show the outcome."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    notice = ""
    try:
        count = await asyncio.wait_for(service.sync(user.user_id, source), SYNC_NOW_TIMEOUT_S)
        notice = f"Synced: {count} items."
    except SourceError as err:
        notice = err.reason
    except TimeoutError:
        await enqueue("sync_source", user.user_id, source)
        notice = "Still syncing in the background."
    return await _connect_page(request, user.user_id, notice=notice, notice_for=source)


@post("/integrations/webhook/create", include_in_schema=False)
async def create_webhook(request: Request[Any, Any, Any]) -> Response[Any]:
    """A new secret URL and signing secret, shown once."""
    user = await page_user(request)
    if user is None:
        return sign_in_redirect()
    slug, secret = await webhook_source.create_endpoint(user.user_id)
    url = f"{get_settings().base_url}/webhooks/in/{slug}"
    return await _connect_page(request, user.user_id, hook_url=url, hook_secret=secret)


def _todoist_signature_ok(body: bytes, signature: str | None) -> bool:
    secret = get_settings().todoist_client_secret
    if not secret or not signature:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode())


@post("/webhooks/todoist", include_in_schema=False, status_code=200)
async def todoist_webhook(request: Request[Any, Any, Any]) -> Response[Any]:
    """Verify (HMAC over the raw body), validate, dedupe by delivery id, enqueue, answer fast."""
    body = await request.body()
    if not _todoist_signature_ok(body, request.headers.get("x-todoist-hmac-sha256")):
        return Response({"error": "bad signature"}, status_code=401)
    delivery = request.headers.get("x-todoist-delivery-id", "")
    try:
        payload = json.loads(body)
        task = payload.get("event_data") or {}
        args = (
            str(payload["event_name"]),
            str(payload.get("user_id", "")),
            str(task["id"]),
            task.get("completed_at"),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        # Not marked as seen: Todoist's retry of this delivery, if valid, is still taken.
        return Response({"error": "unexpected body"}, status_code=400)
    if delivery and not await get_redis().set(
        key("todoist-delivery", delivery), "1", nx=True, ex=DELIVERY_DEDUPE_S
    ):
        return Response({"ok": True, "duplicate": True})
    await enqueue("todoist_webhook", *args, job_id=f"todoist-hook:{delivery or args[2]}")
    return Response({"ok": True})


@post("/webhooks/in/{slug:str}", include_in_schema=False, status_code=200)
async def generic_webhook(request: Request[Any, Any, Any], slug: str) -> Response[Any]:
    """The signed-webhook source: verify, apply, refresh the person's cache."""
    body = await request.body()
    user_id = await webhook_source.verify(slug, body, request.headers.get("x-oo-signature"))
    if user_id is None:
        return Response({"error": "unknown URL or bad signature"}, status_code=401)
    try:
        accepted = await webhook_source.ingest(user_id, json.loads(body))
    except ValueError as err:
        return Response({"error": str(err)}, status_code=400)
    await service.forget_items(user_id, webhook_source.NAME)
    return Response({"accepted": accepted})


ROUTES = [
    connect_page,
    start_connect,
    finish_connect,
    disconnect,
    sync_now,
    create_webhook,
    todoist_webhook,
    generic_webhook,
]
