"""The Todoist stand-in's OAuth endpoints: ``/oauth/authorize``, ``/oauth/access_token`` and
``/api/v1/revoke``."""

from __future__ import annotations

import base64
import binascii
import secrets
import time

from authlib.common.urls import add_params_to_uri

from tests.support.idp_common import Request, Response, consent_page
from tests.support.todoist.api_base import ApiError
from tests.support.todoist.model import (
    CODE_LIFETIME,
    SCOPES,
    TodoistAccount,
    TodoistCode,
    _oauth_error,
)
from tests.support.todoist.state import TodoistState


class TodoistOAuth(TodoistState):
    """Consent, code exchange, refresh-token rotation and RFC 7009 revocation."""

    def _redirect_for(self, requested: str | None) -> str:
        if requested:
            if requested not in self.redirect_uris:
                raise _oauth_error("invalid_redirect_uri")
            return requested
        if not self._redirect_order:
            raise _oauth_error("invalid_redirect_uri")
        return self._redirect_order[-1]

    def _check_authorize(self, req: Request) -> tuple[str, str, str]:
        """(redirect_uri, scope, state) or an error (no redirect for client/redirect errors)."""
        params = req.params
        if params.get("client_id") != self.client_id:
            raise _oauth_error("invalid_client")
        redirect = self._redirect_for(params.get("redirect_uri"))
        state = params.get("state", "")
        if not state:
            raise _oauth_error("invalid_request")
        scope = params.get("scope", "")
        scopes = [s for s in scope.split(",") if s]
        if not scopes or any(s not in SCOPES for s in scopes):
            location = add_params_to_uri(redirect, [("error", "invalid_scope"), ("state", state)])
            raise ApiError(302, b"", [("Location", location)])
        return redirect, scope, state

    def _approve(self, account: TodoistAccount, redirect: str, scope: str, state: str) -> Response:
        code = secrets.token_hex(20)
        self.codes[code] = TodoistCode(code, account, scope, redirect)
        location = add_params_to_uri(redirect, [("code", code), ("state", state)])
        return Response(302, b"", [("Location", location)])

    def _authorize(self, req: Request) -> Response:
        redirect, scope, state = self._check_authorize(req)
        account = self.account(self.next_account or self.default_user or "ada@example.com")
        if self.auto_approve:
            return self._approve(account, redirect, scope, state)
        fields = {**req.params, "account": account.email}
        page = consent_page(
            "Todoist (stand-in) — allow access?",
            account,  # type: ignore[arg-type]
            self.client_id,
            "/oauth/authorize",
            fields,
        )
        return Response.html(page)

    def _decide(self, req: Request) -> Response:
        redirect, scope, state = self._check_authorize(req)
        if req.params.get("decision") != "approve":
            location = add_params_to_uri(redirect, [("error", "access_denied"), ("state", state)])
            return Response(302, b"", [("Location", location)])
        account = self.account(req.params.get("account") or self.default_user or "ada@example.com")
        return self._approve(account, redirect, scope, state)

    def _token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form.items() if v}
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            raise _oauth_error("invalid_client", 401)
        grant_type = form.get("grant_type", "authorization_code")
        if grant_type == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            if (
                code is None
                or code.used
                or time.time() - code.issued_at > CODE_LIFETIME
                or ("redirect_uri" in form and form["redirect_uri"] != code.redirect_uri)
            ):
                raise _oauth_error("invalid_grant")
            code.used = True
            token = self._issue(code.account, code.scope, secrets.token_hex(8))
        elif grant_type == "refresh_token":
            value = form.get("refresh_token", "")
            old = self.token(value) if value else None
            if old is None or old.refresh_token != value or old.revoked or old.rotated:
                raise _oauth_error("invalid_grant")
            old.rotated = True
            token = self._issue(old.account, old.scope, old.grant_id)
        else:
            raise _oauth_error("unsupported_grant_type")
        resp = Response.json(self.token_response(token))
        resp.headers.append(("Cache-Control", "no-store"))
        return resp

    def _revoke(self, req: Request) -> Response:
        scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        if (
            scheme.lower() != "basic"
            or client_id != self.client_id
            or not secrets.compare_digest(secret, self.client_secret)
        ):
            raise ApiError(
                401, {"error": "invalid_client"}, [("WWW-Authenticate", 'Basic realm="todoist"')]
            )
        value = req.params.get("token", "")
        if not value:
            raise _oauth_error("invalid_request")
        self.revoked.append(value)
        tok = self.token(value)
        if tok is not None:
            for other in self.tokens:
                if other.grant_id == tok.grant_id:
                    other.revoked = True
        return Response(200, b"")
