"""POST /push/action: the service worker answers a tip from a notification (no session, no
CSRF cookie in a service worker: the signed single-use action token is the credential)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, post

from backend.contracts.errors import Refused
from backend.notifier.actions import react_with_token

STATUS_FOR = {
    "INVALID_TOKEN": 400,
    "INVALID_DWELL": 400,
    "INVALID_REQUEST": 400,
    "NOT_FOUND": 404,
    "TOKEN_EXPIRED": 410,
    "TOKEN_USED": 409,
    "ALREADY_ANSWERED": 409,
}
MAX_BODY = 4096


def _error(err: Refused) -> Response[Any]:
    body = {"error": {"code": err.code, "message": err.message, "field": err.field}}
    return Response(body, status_code=STATUS_FOR.get(err.code, 400))


@post("/push/action", include_in_schema=False, status_code=200)
async def push_action(request: Request[Any, Any, Any]) -> Response[Any]:
    """Body `{"token": "…", "dwellMs": 1234}` → `{"ok": true, "tipId", "action", "reward"}`."""
    raw = await request.body()
    try:
        if len(raw) > MAX_BODY:
            raise ValueError("too large")
        data = json.loads(raw)
        token = data["token"]
        dwell = data.get("dwellMs")
        if not isinstance(token, str) or not (dwell is None or isinstance(dwell, int | float)):
            raise TypeError("bad field types")
    except (ValueError, KeyError, TypeError):
        return _error(Refused("INVALID_REQUEST", "Send JSON with token and dwellMs.", None))
    try:
        result = await react_with_token(token, None if dwell is None else int(dwell))
    except Refused as err:
        return _error(err)
    return Response(
        {"ok": True, "tipId": result.tip_id, "action": result.action, "reward": result.reward}
    )


ROUTES = [push_action]
