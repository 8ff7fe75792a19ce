"""Stand-in identity providers for tests: Google-shaped and Apple-shaped, on 127.0.0.1.

Each stand-in is a real HTTP server (uvicorn in a background thread, a free port) speaking the
provider's wire formats, so the app's real sign-in client code talks to it over HTTP. The OAuth
protocol work is authlib's server components (``AuthorizationServer``, ``AuthorizationCodeGrant``,
``RefreshTokenGrant``, ``CodeChallenge`` for PKCE, ``OpenIDCode`` for id_tokens,
``RevocationEndpoint``); JWTs are joserfc. What is hand-written and why is in ``idp_oauth``.

Usage::

    with GoogleStandIn() as google:            # or the fixtures in idp_fixtures
        google.allow_redirect("http://127.0.0.1:8000/auth/google/callback")
        google.auto_approve = True
        google.tamper = "wrong_nonce"          # every id_token from now on until reset()

Modules: ``idp_common`` (HTTP plumbing, pages), ``idp_oauth`` (authlib wiring, models),
``idp_google``, ``idp_apple``, ``idp_fixtures`` (pytest fixtures).
"""

from __future__ import annotations

from tests.support.idp_apple import (
    APPLE_AUDIENCE,
    AppleStandIn,
    apple_sub,
    make_apple_client_key,
    make_apple_client_secret,
)
from tests.support.idp_common import TAMPER_MODES, StandInBase, parse_form_post
from tests.support.idp_google import GoogleStandIn, google_sub
from tests.support.idp_oauth import Account, AuthCode, IssuedToken

__all__ = [
    "APPLE_AUDIENCE",
    "TAMPER_MODES",
    "Account",
    "AppleStandIn",
    "AuthCode",
    "GoogleStandIn",
    "IssuedToken",
    "StandInBase",
    "apple_sub",
    "google_sub",
    "make_apple_client_key",
    "make_apple_client_secret",
    "parse_form_post",
]
