"""Helpers of the security tests: servers with chosen settings, GraphQL calls, sign-in paths."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.fixtures import LiveServer


def post_graphql(
    server: LiveServer,
    query: str,
    *,
    token: str | None = None,
    address: str | None = None,
    cookies: dict[str, str] | None = None,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST one GraphQL document; `address` is sent as X-Forwarded-For (uvicorn trusts
    127.0.0.1 as a proxy, so it becomes the client address the limits count by)."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if address is not None:
        headers["X-Forwarded-For"] = address
    with server.client(cookies=cookies or {}) as client:
        return client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )


def codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each top-level error."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def sign_in_path(user_id: str) -> str:
    """A fresh one-time sign-in link's path."""
    from backend.identity.service import create_sign_in_link

    return urlsplit(await create_sign_in_link(user_id)).path


async def session_for(user_id: str) -> str:
    """A live session id for the person (as their browser's `sid` cookie would hold)."""
    from backend.identity.service import create_session

    return await create_session(user_id, user_agent="security-test")
