"""POST /push/action: the service worker answers a tip from a notification (no session, no
CSRF cookie in a service worker: the signed single-use action token is the credential).
POST /push/opened: the service worker reports a tap on a notification (its signed "open"
token), counted as "opened" for the decider. GET /push/open only redirects to the tip: a GET
must change nothing, or a link prefetch would count as a tap."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from backend.contracts.errors import Refused
from backend.notifier.actions import open_with_token, react_with_token

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


def _token_of(raw: bytes) -> str:
    if len(raw) > MAX_BODY:
        raise ValueError("too large")
    token = json.loads(raw)["token"]
    if not isinstance(token, str):
        raise TypeError("token is not a string")
    return token


@post("/push/opened", include_in_schema=False, status_code=200)
async def push_opened(request: Request[Any, Any, Any]) -> Response[Any]:
    """Body `{"token": "…"}` (the notification's "open" token) → `{"ok": true, "tipId"}`."""
    try:
        token = _token_of(await request.body())
    except (ValueError, KeyError, TypeError):
        return _error(Refused("INVALID_REQUEST", "Send JSON with token.", None))
    try:
        tip_id = await open_with_token(token)
    except Refused as err:
        return _error(err)
    return Response({"ok": True, "tipId": tip_id})


@get("/push/open", include_in_schema=False)
async def push_open(tip: str = "") -> Redirect:
    """Where notifications delivered before POST /push/opened point: the tip page, nothing
    recorded (a GET may be a prefetch)."""
    tip_id = tip[:64]
    return Redirect(path="/tip", query_params={"tip": tip_id} if tip_id else None, status_code=303)


ROUTES = [push_action, push_opened, push_open]
