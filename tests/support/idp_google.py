"""A Google-shaped OpenID Connect provider on 127.0.0.1 (see ``idp_common`` for what is authlib's).

Speaks Google's wire formats: discovery, ``/o/oauth2/v2/auth`` (code + PKCE S256 required +
nonce), ``/token`` (authorization_code and refresh_token grants, client_secret_post or
client_secret_basic), RS256 id_tokens with ``kid`` against ``/oauth2/v3/certs``, ``/revoke``
and ``/v1/userinfo``. The issuer is the stand-in's own base URL.

Stricter than Google on purpose: PKCE S256 and ``nonce`` are required (the app must send both).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge

from tests.support.idp_common import Request, Response, StandInBase, consent_page
from tests.support.idp_oauth import (
    Account,
    Client,
    InMemoryCodeGrant,
    InMemoryRefreshGrant,
    StandInAuthorizationServer,
    StandInIdToken,
)

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
_SCOPE_URLS = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
SCOPES_SUPPORTED = ["openid", "email", "profile", *_SCOPE_URLS.values(), CALENDAR_SCOPE]
AUTH_PATH = "/o/oauth2/v2/auth"


def google_sub(email: str) -> str:
    """A stable, Google-looking numeric subject for ``email``."""
    digest = int(hashlib.sha256(email.lower().encode()).hexdigest()[:15], 16)
    return "1" + str(digest).rjust(20, "0")[:20]


class RequireS256(CodeChallenge):
    """authlib's PKCE extension, with a challenge (and S256) mandatory for every client."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE is required).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class GoogleCodeGrant(InMemoryCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def generate_authorization_code(self) -> str:
        return "4/0A" + secrets.token_urlsafe(40)  # Google codes contain a "/"

    def generate_token(
        self,
        user: Account | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        # A refresh token only for access_type=offline, as at Google.
        code = self.request.authorization_code
        offline = code is not None and code.extra.get("access_type") == "offline"
        return super().generate_token(user, scope, grant_type, expires_in, offline)


class GoogleRefreshGrant(InMemoryRefreshGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class GoogleStandIn(StandInBase):
    """Google-shaped provider. Knobs: tamper, accounts, next_account, auto_approve."""

    kid_prefix = "google"

    def __init__(
        self,
        client_id: str = "oo-test.apps.googleusercontent.com",
        client_secret: str | None = None,
        host_name: str = "127.0.0.1",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or "GOCSPX-" + secrets.token_urlsafe(21)
        super().__init__(host_name)
        self.issuer = self.url
        self.clients = {
            client_id: Client(
                client_id,
                self.client_secret,
                self.redirect_uris,
                frozenset({"client_secret_basic", "client_secret_post"}),
            )
        }
        server = StandInAuthorizationServer(self, SCOPES_SUPPORTED)
        server.register_token_generator("default", self._generate_token)
        server.register_grant(GoogleCodeGrant, [RequireS256(required=True), StandInIdToken(self)])
        server.register_grant(GoogleRefreshGrant, [StandInIdToken(self)])
        self.server = server
        for method, path, handler in (
            ("GET", "/.well-known/openid-configuration", self._discovery),
            ("GET", AUTH_PATH, self._authorize),
            ("POST", AUTH_PATH, self._decide),
            ("POST", "/token", self._token),
            ("GET", "/oauth2/v3/certs", lambda req: Response.json(self.jwks())),
            ("POST", "/revoke", self._revoke),
            ("GET", "/v1/userinfo", self._userinfo),
            ("GET", "/avatar.svg", self._avatar),
        ):
            self.route(method, path, handler)

    def reset(self) -> None:
        super().reset()
        pic = f"{self.url}/avatar.svg"
        self.accounts: dict[str, tuple[str, str, str]] = {
            "ada@example.com": (google_sub("ada@example.com"), "Ada Lovelace", pic + "?u=ada"),
            "grace@example.com": (google_sub("grace@example.com"), "Grace Hopper", pic + "?u=g"),
        }
        self.default_account = "ada@example.com"

    def env(self) -> dict[str, str]:
        """Environment variables the app under test needs."""
        return {
            "GOOGLE_CLIENT_ID": self.client_id,
            "GOOGLE_CLIENT_SECRET": self.client_secret,
            "GOOGLE_DISCOVERY_URL": f"{self.url}/.well-known/openid-configuration",
        }

    # ----------------------------------------------------------------- accounts and claims

    def account(self, email: str) -> Account:
        """The account for ``email`` (registered on the fly when unknown)."""
        if email not in self.accounts:
            local = email.split("@")[0]
            self.accounts[email] = (google_sub(email), local.title(), f"{self.url}/avatar.svg")
        sub, name, picture = self.accounts[email]
        given, _, family = name.partition(" ")
        return Account(email, sub, name, given, family, picture)

    def user_claims(self, user: Account, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": user.sub, "azp": self.client_id}
        scopes = scope.split()
        if "email" in scopes or _SCOPE_URLS["email"] in scopes:
            claims.update(email=user.email, email_verified=True)
        if "profile" in scopes or _SCOPE_URLS["profile"] in scopes:
            claims.update(
                name=user.name,
                picture=user.picture,
                given_name=user.given_name,
                family_name=user.family_name,
            )
        return claims

    def _generate_token(
        self,
        grant_type: str,
        client: Client,
        user: Account | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        token: dict[str, Any] = {
            "access_token": "ya29." + secrets.token_urlsafe(48),
            "expires_in": expires_in or 3599,
            "token_type": "Bearer",
            # Google answers with full scope URLs for the email / profile shorthands.
            "scope": " ".join(_SCOPE_URLS.get(s, s) for s in (scope or "").split()),
        }
        if include_refresh_token:
            token["refresh_token"] = "1//0g" + secrets.token_urlsafe(48)
        return token

    # ----------------------------------------------------------------- endpoints

    def _discovery(self, req: Request) -> Response:
        u = self.url
        return Response.json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": u + AUTH_PATH,
                "token_endpoint": u + "/token",
                "userinfo_endpoint": u + "/v1/userinfo",
                "revocation_endpoint": u + "/revoke",
                "jwks_uri": u + "/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": [
                    "aud",
                    "email",
                    "email_verified",
                    "exp",
                    "family_name",
                    "given_name",
                    "iat",
                    "iss",
                    "name",
                    "picture",
                    "sub",
                ],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )

    def _pick_account(self, req: Request) -> Account:
        params = req.params
        email = (
            params.get("account")
            or params.get("login_hint")
            or self.next_account
            or self.default_account
        )
        return self.account(email)

    def _authorize(self, req: Request) -> Response:
        account = self._pick_account(req)
        try:
            grant = self.server.get_consent_grant(req, end_user=account)
        except OAuth2Error as error:
            return self.server.handle_error_response(None, error)
        if self.auto_approve:
            return self.server.create_authorization_response(grant.request, account, grant)
        fields = {**req.params, "account": account.email}
        page = consent_page(
            "Sign in with Google (stand-in)", account, self.client_id, AUTH_PATH, fields
        )
        return Response.html(page)

    def _decide(self, req: Request) -> Response:
        account = self._pick_account(req)
        try:
            grant = self.server.get_consent_grant(req, end_user=account)
        except OAuth2Error as error:
            return self.server.handle_error_response(None, error)
        approved = req.params.get("decision") == "approve"
        return self.server.create_authorization_response(
            grant.request, account if approved else None, grant
        )

    def _token(self, req: Request) -> Response:
        resp: Response = self.server.create_token_response(req)
        return resp

    def _revoke(self, req: Request) -> Response:
        value = req.params.get("token")
        if not value:
            return Response.json({"error": "invalid_request"}, 400)
        self.revoked.append(value)
        tok = self.find_token(value)
        if tok is None:
            return Response.json(
                {"error": "invalid_token", "error_description": "Bad Request"}, 400
            )
        # Revoking either token of a grant ends the whole grant, as at Google.
        for other in self.tokens:
            if tok.refresh_token and other.refresh_token == tok.refresh_token:
                other.revoked = True
        tok.revoked = True
        return Response.json({})

    def _userinfo(self, req: Request) -> Response:
        auth = req.headers.get("authorization", "")
        tok = self.find_token(auth[7:]) if auth.lower().startswith("bearer ") else None
        if tok is None or tok.revoked or tok.is_expired() or tok.access_token != auth[7:]:
            headers = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
            return Response(401, {"error": "invalid_token"}, headers)
        return Response.json(self.user_claims(tok.user, tok.scope))

    def _avatar(self, req: Request) -> Response:
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32">'
            '<circle cx="16" cy="16" r="16" fill="#4285f4"/></svg>'
        )
        return Response(200, svg, [("Content-Type", "image/svg+xml")])

    def authorize_url(self, redirect_uri: str, **params: str) -> str:
        """An authorize URL for this stand-in (helper for tests acting as the client)."""
        base = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
        }
        return add_params_to_uri(self.url + AUTH_PATH, list({**base, **params}.items()))
