"""What the self-tests share: callback URIs and a relying party's id_token check."""

from __future__ import annotations

from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

GOOGLE_CB = "http://127.0.0.1:9/auth/google/callback"
APPLE_CB = "http://127.0.0.1:9/auth/apple/callback"


def verify_id_token(http: httpx.Client, jwks_url: str, token: str, **expect: Any) -> dict[str, Any]:
    """Verify signature (JWKS by kid) and iss / aud / nonce / exp as a relying party does."""
    keys = KeySet.import_key_set(http.get(jwks_url).json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["kid"] in {k["kid"] for k in keys.as_dict()["keys"]}
    options = {name: {"essential": True, "value": value} for name, value in expect.items()}
    jwt.JWTClaimsRegistry(exp={"essential": True}, **options).validate(decoded.claims)
    return dict(decoded.claims)
