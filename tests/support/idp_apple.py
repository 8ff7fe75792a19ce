"""A Sign-in-with-Apple-shaped provider on 127.0.0.1 (see ``idp_oauth`` for what is authlib's).

Speaks Apple's wire formats: ``/auth/authorize`` answering with ``response_mode=form_post`` (an
auto-submitting HTML form POSTing code, state, id_token and — on the first authorization of that
account for that client only — the ``user`` JSON), ``/auth/token`` authenticating the client by
an ES256 client-secret JWT (kid, iss = team id, sub = client id, aud = https://appleid.apple.com,
exp at most 6 months after iat), RS256 id_tokens whose booleans are the strings "true"/"false",
``/auth/keys`` and ``/auth/revoke`` (which, as at Apple, makes the next sign-in a "first" one).

Stricter than Apple on purpose: ``nonce`` is required (``require_nonce = False`` relaxes it).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oidc.core.grants.util import validate_form_post_redirect_uri
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from tests.support.idp_common import Request, Response, StandInBase, auto_submit_form, consent_page
from tests.support.idp_oauth import (
    Account,
    Client,
    InMemoryCodeGrant,
    InMemoryRefreshGrant,
    IssuedToken,
    StandInAuthorizationServer,
    StandInIdToken,
)

APPLE_AUDIENCE = "https://appleid.apple.com"
MAX_SECRET_LIFETIME = 15_777_000  # Apple's limit: 6 months, in seconds
AUTH_METHOD = "apple_client_secret_jwt"
AUTHORIZE_PATH = "/auth/authorize"
RELAY_DOMAIN = "@privaterelay.appleid.com"
_HTML = [("Content-Type", "text/html; charset=utf-8")]


def apple_sub(email: str) -> str:
    """A stable, Apple-looking subject (``000123.<32 hex>.0456``) for ``email``."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    team, tail = int(digest[:5], 16) % 1_000_000, int(digest[37:41], 16) % 10_000
    return f"{team:06d}.{digest[5:37]}.{tail:04d}"


def make_apple_client_key(key_id: str | None = None) -> tuple[str, str, str]:
    """A fresh P-256 key as Apple issues it: (private PKCS#8 PEM as in a .p8, public PEM, kid)."""
    key = ECKey.generate_key("P-256")
    return (
        key.as_pem(private=True).decode(),
        key.as_pem(private=False).decode(),
        key_id or secrets.token_hex(5).upper(),
    )


def make_apple_client_secret(
    private_pem: str,
    *,
    team_id: str,
    client_id: str,
    key_id: str,
    lifetime: int = 3600,
    issued_at: int | None = None,
    audience: str = APPLE_AUDIENCE,
) -> str:
    """The client_secret JWT an app sends to Apple (for tests that act as the app)."""
    now = int(time.time()) if issued_at is None else issued_at
    claims = {"iss": team_id, "iat": now, "exp": now + lifetime, "aud": audience, "sub": client_id}
    return jwt.encode({"alg": "ES256", "kid": key_id}, claims, ECKey.import_key(private_pem))


class AppleCodeGrant(InMemoryCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]
    DEFAULT_RESPONSE_MODE = "query"

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        data = self.request.payload.data
        if self.request.payload.scope and data.get("response_mode") != "form_post":
            raise InvalidRequestError("response_mode must be form_post when scopes are requested.")
        validate_form_post_redirect_uri(self, redirect_uri)
        if self.server.idp.require_nonce and not data.get("nonce"):
            raise InvalidRequestError("Missing 'nonce' (the stand-in requires it).")
        return redirect_uri

    def create_authorization_response(self, redirect_uri: str, grant_user: Any) -> Any:
        idp: AppleStandIn = self.server.idp
        state = self.request.payload.state
        fields = {"state": state} if state else {}
        if not grant_user:
            return (
                200,
                auto_submit_form(redirect_uri, {**fields, "error": "user_cancelled_authorize"}),
                _HTML,
            )
        self.request.user = grant_user
        code = self.generate_authorization_code()
        self.save_authorization_code(code, self.request)
        if self.request.payload.data.get("response_mode") != "form_post":
            return (
                302,
                "",
                [("Location", add_params_to_uri(redirect_uri, [("code", code), *fields.items()]))],
            )
        fields["code"] = code
        fields["id_token"] = idp.form_post_id_token(self.request, code)
        user_json = idp.first_authorization(
            self.request.client.client_id, grant_user, self.request.scope
        )
        if user_json is not None:
            fields["user"] = user_json
        return 200, auto_submit_form(redirect_uri, fields), _HTML


class AppleRefreshGrant(InMemoryRefreshGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]


class AppleRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        self.server.idp.revoked.append(token_string)
        found: IssuedToken | None = self.server.idp.find_token(token_string)
        return found

    def revoke_token(self, token: IssuedToken, request: Any) -> None:
        idp: AppleStandIn = self.server.idp
        for other in idp.tokens:
            if other.client_id == token.client_id and other.user.sub == token.user.sub:
                other.revoked = True
        idp.authorized.discard((token.client_id, token.user.sub))


class AppleStandIn(StandInBase):
    """Apple-shaped provider. Knobs: tamper, accounts, next_account, auto_approve, authorized."""

    kid_prefix = "apple"

    def __init__(
        self,
        client_id: str = "com.example.oo.signin",
        team_id: str = "TEAM012345",
        key_id: str | None = None,
        public_key: str | dict[str, Any] | ECKey | None = None,
        issuer: str | None = None,
        host_name: str = "127.0.0.1",
    ) -> None:
        """``public_key`` is the client key the app signs its client secret with; when omitted a
        key pair is made and its private half is on ``private_pem`` (``None`` otherwise)."""
        self.client_id = client_id
        self.team_id = team_id
        self.private_pem: str | None = None
        if public_key is None:
            self.private_pem, public_key, key_id = make_apple_client_key(key_id)
        self.key_id = key_id or ""
        if not self.key_id:
            raise ValueError("key_id is required with an explicit public_key")
        self.client_public_key = (
            public_key if isinstance(public_key, ECKey) else ECKey.import_key(public_key)
        )
        super().__init__(host_name)
        self.issuer = issuer or self.url
        self.clients = {
            client_id: Client(client_id, None, self.redirect_uris, frozenset({AUTH_METHOD}))
        }
        server = StandInAuthorizationServer(self, scopes_supported=["name", "email"])
        server.register_token_generator("default", self._generate_token)
        server.register_client_auth_method(AUTH_METHOD, self._authenticate_client)
        server.register_grant(AppleCodeGrant, [StandInIdToken(self, always=True)])
        server.register_grant(AppleRefreshGrant, [StandInIdToken(self, always=True)])
        server.register_endpoint(AppleRevocation)
        self.server = server
        for method, path, handler in (
            ("GET", AUTHORIZE_PATH, self._authorize),
            ("POST", AUTHORIZE_PATH, self._decide),
            ("POST", "/auth/token", lambda req: self.server.create_token_response(req)),
            ("GET", "/auth/keys", lambda req: Response.json(self.jwks())),
            (
                "POST",
                "/auth/revoke",
                lambda req: self.server.create_endpoint_response("revocation", req),
            ),
        ):
            self.route(method, path, handler)

    def reset(self) -> None:
        super().reset()
        relay = "x7k2m9q4rt" + RELAY_DOMAIN
        self.accounts: dict[str, tuple[str, str, str]] = {
            "ada@example.com": (apple_sub("ada@example.com"), "Ada", "Lovelace"),
            relay: (apple_sub(relay), "Grace", "Hopper"),
        }
        self.default_account = "ada@example.com"
        #: (client_id, sub) pairs that already authorized: they get no ``user`` JSON again.
        self.authorized: set[tuple[str, str]] = set()

    def env(self) -> dict[str, str]:
        """Environment variables the app under test needs."""
        if self.private_pem is None:
            raise RuntimeError(
                "constructed with an external public_key: set APPLE_PRIVATE_KEY yourself"
            )
        return {
            "APPLE_CLIENT_ID": self.client_id,
            "APPLE_TEAM_ID": self.team_id,
            "APPLE_KEY_ID": self.key_id,
            "APPLE_PRIVATE_KEY": self.private_pem,
            "APPLE_ISSUER": self.issuer,
            "APPLE_AUTHORIZE_URL": self.url + AUTHORIZE_PATH,
            "APPLE_TOKEN_URL": self.url + "/auth/token",
            "APPLE_JWKS_URL": self.url + "/auth/keys",
            "APPLE_REVOKE_URL": self.url + "/auth/revoke",
        }

    def client_secret(self, **overrides: Any) -> str:
        """A valid client secret for this stand-in; ``overrides`` go to make_apple_client_secret."""
        if self.private_pem is None:
            raise RuntimeError("no private key known")
        args: dict[str, Any] = {
            "team_id": self.team_id,
            "client_id": self.client_id,
            "key_id": self.key_id,
        }
        return make_apple_client_secret(self.private_pem, **{**args, **overrides})

    # ----------------------------------------------------------------- accounts and claims

    def account(self, email: str) -> Account:
        """The account for ``email`` (registered on the fly when unknown)."""
        if email not in self.accounts:
            self.accounts[email] = (apple_sub(email), email.split("@")[0].title(), "Tester")
        sub, first, last = self.accounts[email]
        return Account(email, sub, f"{first} {last}", first, last)

    def forget(self, email: str) -> None:
        """Make the next sign-in of ``email`` a first authorization again (``user`` JSON sent)."""
        sub = self.account(email).sub
        self.authorized = {pair for pair in self.authorized if pair[1] != sub}

    def user_claims(self, user: Account, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": user.sub, "nonce_supported": True}
        if "email" in scope.split():
            claims.update(
                email=user.email,
                email_verified="true",
                is_private_email="true" if user.email.endswith(RELAY_DOMAIN) else "false",
            )
        return claims

    def first_authorization(self, client_id: str, user: Account, scope: str) -> str | None:
        """The ``user`` JSON when this is the account's first authorization of ``client_id``."""
        if (client_id, user.sub) in self.authorized:
            return None
        self.authorized.add((client_id, user.sub))
        scopes = scope.split()
        data: dict[str, Any] = {}
        if "name" in scopes:
            data["name"] = {"firstName": user.given_name, "lastName": user.family_name}
        if "email" in scopes:
            data["email"] = user.email
        return json.dumps(data) if data else None

    def form_post_id_token(self, request: Any, code: str) -> str:
        claims = self.id_token_base_claims(request.client.client_id, self.issuer)
        claims.update(self.user_claims(request.user, request.scope or ""))
        claims.setdefault("auth_time", claims["iat"])
        claims["c_hash"] = create_half_hash(code, "RS256").decode()
        nonce = self.id_token_nonce(request.payload.data.get("nonce"))
        if nonce:
            claims["nonce"] = nonce
        return self.encode_id_token(claims)

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
            "access_token": "a" + secrets.token_hex(32) + ".0.r" + secrets.token_hex(4),
            "token_type": "Bearer",
            "expires_in": expires_in or 3600,
        }
        if include_refresh_token:
            token["refresh_token"] = "r" + secrets.token_hex(32) + ".0.r" + secrets.token_hex(4)
        return token

    def verify_client_secret(self, client_id: str | None, secret: str | None) -> None:
        """Raise InvalidClientError unless ``secret`` is a valid client secret for ``client_id``."""

        def fail(why: str) -> InvalidClientError:
            return InvalidClientError(description=f"client_secret rejected: {why}")

        if not client_id or not secret:
            raise fail("client_id and client_secret are required")
        try:
            token = jwt.decode(secret, self.client_public_key, algorithms=["ES256"])
        except (JoseError, ValueError) as exc:
            raise fail(
                f"not an ES256 JWT signed by the registered key ({type(exc).__name__})"
            ) from exc
        header, claims, now = token.header, token.claims, int(time.time())
        aud = claims.get("aud")
        checks = {
            "header kid": header.get("kid") == self.key_id,
            "iss (team id)": claims.get("iss") == self.team_id,
            "sub (client id)": claims.get("sub") == client_id == self.client_id,
            "aud": aud == APPLE_AUDIENCE or (isinstance(aud, list) and APPLE_AUDIENCE in aud),
            "iat": isinstance(claims.get("iat"), int) and claims["iat"] <= now + 60,
            "exp": isinstance(claims.get("exp"), int) and claims["exp"] > now,
        }
        if checks["iat"] and checks["exp"]:
            checks["exp - iat <= 6 months"] = claims["exp"] - claims["iat"] <= MAX_SECRET_LIFETIME
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise fail("bad " + ", ".join(bad))

    def _authenticate_client(self, query_client: Any, request: Any) -> Client | None:
        client_id = request.form.get("client_id")
        self.verify_client_secret(client_id, request.form.get("client_secret"))
        found: Client | None = query_client(client_id)
        return found

    # ----------------------------------------------------------------- endpoints

    def _pick_account(self, req: Request) -> Account:
        params = req.params
        return self.account(params.get("account") or self.next_account or self.default_account)

    def _authorize(self, req: Request) -> Response:
        account = self._pick_account(req)
        try:
            grant = self.server.get_consent_grant(req, end_user=account)
        except OAuth2Error as error:
            return self.server.handle_error_response(None, error)
        if self.auto_approve:
            return self.server.create_authorization_response(grant.request, account, grant)
        fields = {**req.params, "account": account.email}
        title = "Sign in with Apple (stand-in)"
        return Response.html(consent_page(title, account, self.client_id, AUTHORIZE_PATH, fields))

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
