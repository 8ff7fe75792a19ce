"""create_app(): plugins, every domain's routes (backend/domains.py), lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar, MediaType, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from backend import heartbeat
from backend.access_log import access_log_middleware
from backend.db import close_pool, engine, open_pool
from backend.domains import DOMAINS, install
from backend.events import live
from backend.graphql.context import context_getter
from backend.graphql.http import graphql_controller
from backend.queue import close_queue
from backend.rate_limit_middleware import rate_limit_middleware
from backend.redis import close_redis, get_redis
from backend.schema import schema
from backend.security_headers import add_security_headers, csp_nonce_middleware
from backend.settings import ROOT, get_settings
from backend.web import http_error_handler, internal_error_handler

STATIC = ROOT / "frontend" / "static"


@get("/healthz", media_type=MediaType.JSON, include_in_schema=False)
async def healthz() -> dict[str, bool]:
    """Liveness: a bare JSON answer (also the baseline of bench/tip_latency.py)."""
    return {"ok": True}


READY_TIMEOUT_S = 2.0


async def _reachable(check: Awaitable[object]) -> bool:
    try:
        await asyncio.wait_for(check, READY_TIMEOUT_S)
    except Exception:  # any failure means "not ready"; the reason is not for the caller
        return False
    return True


@get("/readyz", media_type=MediaType.JSON, include_in_schema=False)
async def readyz() -> Response[dict[str, bool]]:
    """Readiness for orchestrators: the database and Redis answer (503 when one does not)."""
    database = await _reachable(engine().run_ddl("SELECT 1"))
    redis = await _reachable(get_redis().ping())
    ok = database and redis
    return Response(
        {"ok": ok, "database": database, "redis": redis}, status_code=200 if ok else 503
    )


@get("/sw.js", include_in_schema=False, media_type="application/javascript")
async def service_worker() -> File:
    """The service worker, served at the root so its scope is the whole site."""
    return File(
        STATIC / "sw.js", content_disposition_type="inline", headers={"Service-Worker-Allowed": "/"}
    )


@get("/manifest.webmanifest", include_in_schema=False, media_type="application/manifest+json")
async def manifest() -> File:
    """The PWA manifest."""
    return File(STATIC / "manifest.webmanifest", content_disposition_type="inline")


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open the database pool and beat for the health rollup; close it all on the way out."""
    await open_pool()
    beating = asyncio.create_task(
        heartbeat.keep_beating("web", lambda: {"subscriptions": live.open_subscriptions()}),
        name="oo-heartbeat",
    )
    try:
        yield
    finally:
        beating.cancel()
        await heartbeat.forget("web")
        await close_queue()
        await close_redis()
        await close_pool()


def public_origin(base_url: str) -> str:
    """The origin (scheme://host[:port]) of the public URL."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def create_app() -> Litestar:
    """The oO web application."""
    settings = get_settings()
    install()
    graphql = graphql_controller(
        schema=schema,
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql",
        keep_alive=True,
        keep_alive_interval=15,
        # Strawberry refuses cross-origin WebSocket handshakes (a foreign page would ride the
        # person's cookie); behind a proxy the Host differs from the public URL, so that
        # origin is allowed by name.
        allowed_origins=[public_origin(settings.base_url)],
    )
    exception_handlers: dict[Any, Any] = {
        HTTPException: http_error_handler,
        Exception: internal_error_handler,
    }
    return Litestar(
        route_handlers=[
            graphql,
            healthz,
            readyz,
            service_worker,
            manifest,
            *(route for domain in DOMAINS for route in domain.routes),
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False
            ),
        ],
        lifespan=[lifespan],
        template_config=TemplateConfig(
            directory=ROOT / "frontend" / "templates", engine=JinjaTemplateEngine
        ),
        csrf_config=CSRFConfig(
            secret=settings.secret_keys[0],
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.secure_cookies,
            cookie_samesite="strict",
            # GraphQL: bearer calls are exempt; cookie-authenticated mutations are checked there.
            # /push/action, /push/opened: a service worker has no CSRF token; its single-use
            # action token, not a cookie, is the credential.
            exclude=[
                "/graphql",
                "/auth/apple/callback",
                "/auth/token",
                "/webhooks/",
                "/push/action",
                "/push/opened",
            ],
        ),
        exception_handlers=exception_handlers,
        middleware=[access_log_middleware, csp_nonce_middleware, rate_limit_middleware],
        before_send=[add_security_headers],
        openapi_config=None,
    )
