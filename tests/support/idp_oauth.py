"""authlib server components wired to the stand-ins' in-memory state (see ``idp.py``).

What comes from authlib and what is by hand
-------------------------------------------
authlib 1.9.9's server side is framework-neutral: ``AuthorizationServer`` only needs a request
adapter, a response factory, ``query_client`` and ``save_token``. This module supplies those for
the tiny raw-ASGI app of ``idp_common``, so the OAuth protocol work is authlib's own:

* ``authlib.oauth2.rfc6749.AuthorizationServer`` + ``grants.AuthorizationCodeGrant`` /
  ``grants.RefreshTokenGrant``: redirect-URI checks, response_type / client checks, client
  authentication (``client_secret_post`` / ``client_secret_basic``, or a registered custom
  method for Apple), single-use codes (``invalid_grant`` on replay), error responses.
* ``authlib.oauth2.rfc7636.CodeChallenge``: PKCE; S256 is checked with authlib's
  ``create_s256_code_challenge`` (``compare_s256_code_challenge``).
* ``authlib.oidc.core.OpenIDCode``: the id_token (nonce, at_hash, auth_time), signed by joserfc.
* ``authlib.oauth2.rfc7009.RevocationEndpoint``: Apple's ``/auth/revoke``.

By hand, because authlib has no piece for it or its piece does not match the provider's wire
format: the HTTP layer (a few lines of ASGI instead of a framework), discovery / JWKS documents,
the consent pages, Apple's ``form_post`` page (authlib's ``create_response_mode_response``
percent-quotes the field values, which would corrupt the ``user`` JSON), the ES256 client-secret
check (joserfc), Google's unauthenticated ``/revoke`` and ``/v1/userinfo``.

``authlib.jose`` is never imported (deprecated; pytest runs with ``filterwarnings=error``).
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode
from authlib.oidc.core.grants.util import validate_nonce
from joserfc.jwk import RSAKey

from tests.support.idp_common import Request, Response

CODE_LIFETIME = 600


class _Payload(OAuth2Payload):
    def __init__(self, datalist: dict[str, list[str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list, datalist)

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._datalist.items() if v}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StandInOAuth2Request(OAuth2Request):
    """authlib's request interface over our ``Request`` (query + form merged, as Flask's)."""

    def __init__(self, req: Request) -> None:
        super().__init__(req.method, req.url, headers=req.headers)
        merged: dict[str, list[str]] = {k: list(v) for k, v in req.query.items()}
        for k, v in req.form.items():
            merged.setdefault(k, []).extend(v)
        self.payload = _Payload(merged)
        self._req = req

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._req.query.items() if v}

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._req.form.items() if v}


class StandInAuthorizationServer(AuthorizationServer):
    """authlib's AuthorizationServer bound to a stand-in's in-memory state."""

    def __init__(self, idp: Any, scopes_supported: list[str] | None = None) -> None:
        super().__init__(scopes_supported=scopes_supported)
        self.idp = idp

    def query_client(self, client_id: str) -> Client | None:
        return self.idp.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        if refresh is None and request.refresh_token is not None:
            refresh = request.refresh_token.refresh_token
        self.idp.tokens.append(
            IssuedToken(
                client_id=request.client.client_id,
                user=request.user,
                scope=token.get("scope") or "",
                access_token=token["access_token"],
                refresh_token=refresh,
                expires_at=time.time() + int(token.get("expires_in", 3600)),
            )
        )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return StandInOAuth2Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints")

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        return Response(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


# --------------------------------------------------------------------------- models


@dataclass
class Account:
    """A person at the provider."""

    email: str
    sub: str
    name: str
    given_name: str = ""
    family_name: str = ""
    picture: str = ""


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str | None
    redirect_uris: set[str]
    auth_methods: frozenset[str]
    grant_types: frozenset[str] = frozenset({"authorization_code", "refresh_token"})

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is always required

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and secrets.compare_digest(
            client_secret, self.client_secret
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class AuthCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Account
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    extra: dict[str, str]
    issued_at: float = field(default_factory=time.time)
    used: bool = False

    @classmethod
    def from_request(cls, code: str, request: OAuth2Request) -> AuthCode:
        data = request.payload.data
        return cls(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=data.get("redirect_uri", ""),
            scope=request.scope or "",
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            extra=dict(data),
        )

    def usable_by(self, client: Client) -> bool:
        fresh = time.time() - self.issued_at < CODE_LIFETIME
        return not self.used and fresh and self.client_id == client.client_id

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass
class IssuedToken(TokenMixin):
    client_id: str
    user: Account
    scope: str
    access_token: str
    refresh_token: str | None
    expires_at: float
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> Account:
        return self.user

    def get_client(self) -> None:
        return None


class InMemoryCodeGrant(grants.AuthorizationCodeGrant):
    """authlib's code grant over ``idp.codes``; a used code stays stored but is refused."""

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        self.server.idp.codes[code] = AuthCode.from_request(code, request)

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        found: AuthCode | None = self.server.idp.codes.get(code)
        return found if found is not None and found.usable_by(client) else None

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        authorization_code.used = True

    def authenticate_user(self, authorization_code: AuthCode) -> Account:
        return authorization_code.user


class InMemoryRefreshGrant(grants.RefreshTokenGrant):
    """authlib's refresh grant over ``idp.tokens``; refresh tokens stay valid (no rotation)."""

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        tok: IssuedToken | None = self.server.idp.find_token(refresh_token)
        if tok is None or tok.revoked or tok.refresh_token != refresh_token:
            return None
        return tok

    def authenticate_user(self, refresh_token: IssuedToken) -> Account:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        return None


class StandInIdToken(OpenIDCode):
    """authlib's OpenIDCode with the stand-in's key, claims and tamper knobs.

    ``always=True`` (Apple) issues an id_token even without the ``openid`` scope.
    """

    def __init__(self, idp: Any, *, always: bool = False) -> None:
        super().__init__(require_nonce=idp.require_nonce)
        self.idp = idp
        self.always = always

    def validate_openid_authorization_request(self, grant: Any, redirect_uri: str) -> None:
        validate_nonce(grant.request, self.exists_nonce, self.idp.require_nonce)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # real providers do not reject a reused nonce; the client must check it

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.idp.id_token_key()

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.idp.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return self.idp.id_token_base_claims(client.client_id, self.idp.issuer)

    def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        nonce = self.idp.id_token_nonce(claims.get("nonce"))
        if nonce:
            claims["nonce"] = nonce
        return claims

    def generate_user_info(self, user: Account, scope: str) -> dict[str, Any]:
        info: dict[str, Any] = self.idp.user_claims(user, scope)
        return info

    def process_token(self, grant: Any, response: Any) -> Any:
        _, token, _ = response
        if self.always:  # Apple: no "openid" scope, no "scope" in the token response
            req = grant.request
            granted = req.authorization_code or req.refresh_token
            scope = token.get("scope") or (granted.get_scope() if granted else "")
            token["id_token"] = self.encode_id_token({**token, "scope": scope}, req)
            return token
        return super().process_token(grant, response)
