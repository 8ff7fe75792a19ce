"""POST /push/action: the service worker answers a tip from a notification (no session, no
CSRF cookie in a service worker: the signed single-use action token is the credential).
GET /push/open: a tap on a notification, counted as "opened" for the decider, then the tip."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from backend.contracts.errors import Refused
from backend.notifier import outcomes
from backend.notifier.actions import react_with_token
from backend.web import page_user

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


@get("/push/open", include_in_schema=False)
async def push_open(request: Request[Any, Any, Any], tip: str = "") -> Redirect:
    """The notification's own URL: the signed-in person opened the pushed tip (the decider
    learns "opened"); everyone lands on the tip page."""
    tip_id = tip[:64]
    user = await page_user(request)
    if user is not None and tip_id:
        await outcomes.record_reaction(user.user_id, tip_id, "open")
    return Redirect(path="/tip", query_params={"tip": tip_id} if tip_id else None, status_code=303)


ROUTES = [push_action, push_open]
