"""Self-test of the Google stand-in, driven with plain httpx as an app would."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import errors

from tests.support.idp import GoogleStandIn, parse_form_post
from tests.unit.support.client import GOOGLE_CB, verify_id_token


def google_code(http: httpx.Client, idp: GoogleStandIn, verifier: str, **params: str) -> str:
    query = {
        "state": "st-1",
        "nonce": "nonce-1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        **params,
    }
    resp = http.get(idp.authorize_url(GOOGLE_CB, **query))
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith(GOOGLE_CB + "?")
    got = parse_qs(urlsplit(location).query)
    assert got["state"] == [query["state"]]
    return got["code"][0]


def google_token(
    http: httpx.Client, idp: GoogleStandIn, code: str, verifier: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": GOOGLE_CB,
        "code_verifier": verifier,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
    }
    return http.post(f"{idp.url}/token", data=form)


def test_google_discovery(http: httpx.Client, google: GoogleStandIn) -> None:
    doc = http.get(google.env()["GOOGLE_DISCOVERY_URL"]).json()
    assert doc["issuer"] == google.url
    assert doc["authorization_endpoint"] == f"{google.url}/o/oauth2/v2/auth"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = http.get(doc["jwks_uri"]).json()["keys"]
    assert keys
    assert all("d" not in k for k in keys)


def test_google_full_flow_with_pkce_and_nonce(http: httpx.Client, google: GoogleStandIn) -> None:
    verifier = secrets.token_urlsafe(48)
    code = google_code(
        http, google, verifier, login_hint="grace@example.com", access_type="offline"
    )
    resp = google_token(http, google, code, verifier)
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["refresh_token"]
    assert "https://www.googleapis.com/auth/userinfo.email" in body["scope"].split()
    claims = verify_id_token(
        http,
        f"{google.url}/oauth2/v3/certs",
        body["id_token"],
        iss=google.url,
        aud=google.client_id,
        nonce="nonce-1",
    )
    sub, name, picture = google.accounts["grace@example.com"]
    assert claims["sub"] == sub
    assert (claims["email"], claims["email_verified"]) == ("grace@example.com", True)
    assert (claims["name"], claims["picture"]) == (name, picture)
    assert claims["exp"] - claims["iat"] == 3600
    sent = {path: params for method, path, params in google.requests}
    assert sent["/o/oauth2/v2/auth"]["code_challenge_method"] == "S256"
    assert sent["/token"]["code_verifier"] == verifier

    info = http.get(
        f"{google.url}/v1/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.json()["email"] == "grace@example.com"

    refreshed = http.post(
        f"{google.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=(google.client_id, google.client_secret),  # client_secret_basic
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"] != body["access_token"]
    assert "refresh_token" not in refreshed.json()


def test_google_code_is_single_use(http: httpx.Client, google: GoogleStandIn) -> None:
    verifier = secrets.token_urlsafe(48)
    code = google_code(http, google, verifier)
    assert google_token(http, google, code, verifier).status_code == 200
    replay = google_token(http, google, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_google_pkce_is_verified(http: httpx.Client, google: GoogleStandIn) -> None:
    verifier = secrets.token_urlsafe(48)
    code = google_code(http, google, verifier)
    wrong = google_token(http, google, code, secrets.token_urlsafe(48))
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    missing = google_token(http, google, code, "")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


def test_google_requires_s256_challenge(http: httpx.Client, google: GoogleStandIn) -> None:
    for extra in ({}, {"code_challenge": "x" * 43, "code_challenge_method": "plain"}):
        resp = http.get(google.authorize_url(GOOGLE_CB, state="s", nonce="n", **extra))
        assert resp.status_code == 302
        got = parse_qs(urlsplit(resp.headers["location"]).query)
        assert got["error"] == ["invalid_request"]
        assert "code" not in got


def test_google_rejects_unknown_client_and_redirect(
    http: httpx.Client, google: GoogleStandIn
) -> None:
    pkce = {"code_challenge": "c" * 43, "code_challenge_method": "S256", "nonce": "n"}
    bad_redirect = http.get(google.authorize_url("http://127.0.0.1:9/evil", **pkce))
    assert bad_redirect.status_code == 400
    bad_client = http.get(google.authorize_url(GOOGLE_CB, client_id="nobody", **pkce))
    assert bad_client.status_code == 400
    assert "location" not in bad_client.headers


def test_google_rejects_wrong_client_secret(http: httpx.Client, google: GoogleStandIn) -> None:
    verifier = secrets.token_urlsafe(48)
    code = google_code(http, google, verifier)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": GOOGLE_CB}
    form |= {"code_verifier": verifier, "client_id": google.client_id, "client_secret": "nope"}
    resp = http.post(f"{google.url}/token", data=form)
    assert resp.json()["error"] == "invalid_client"


def test_google_no_refresh_token_without_offline(http: httpx.Client, google: GoogleStandIn) -> None:
    verifier = secrets.token_urlsafe(48)
    body = google_token(http, google, google_code(http, google, verifier), verifier).json()
    assert "refresh_token" not in body


def test_google_consent_page(http: httpx.Client, google: GoogleStandIn) -> None:
    google.auto_approve = False
    google.next_account = "grace@example.com"
    verifier = secrets.token_urlsafe(48)
    url = google.authorize_url(
        GOOGLE_CB,
        state="s",
        nonce="n",
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    page = http.get(url)
    assert page.status_code == 200
    assert 'id="approve"' in page.text
    assert "grace@example.com" in page.text
    action, fields = parse_form_post(page.text)
    approved = http.post(google.url + action, data={**fields, "decision": "approve"})
    assert approved.status_code == 302
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    id_token = google_token(http, google, code, verifier).json()["id_token"]
    claims = verify_id_token(http, f"{google.url}/oauth2/v3/certs", id_token, nonce="n")
    assert claims["email"] == "grace@example.com"
    denied = http.post(google.url + action, data={**fields, "decision": "deny"})
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


TAMPER_ERRORS = {
    "wrong_nonce": errors.InvalidClaimError,
    "expired": errors.ExpiredTokenError,
    "wrong_audience": errors.InvalidClaimError,
    "bad_signature": errors.BadSignatureError,
    "wrong_issuer": errors.InvalidClaimError,
}


@pytest.mark.parametrize("mode", sorted(TAMPER_ERRORS))
def test_google_tamper_modes(http: httpx.Client, google: GoogleStandIn, mode: str) -> None:
    google.tamper = mode
    verifier = secrets.token_urlsafe(48)
    body = google_token(http, google, google_code(http, google, verifier), verifier).json()
    with pytest.raises(TAMPER_ERRORS[mode]):
        verify_id_token(
            http,
            f"{google.url}/oauth2/v3/certs",
            body["id_token"],
            iss=google.url,
            aud=google.client_id,
            nonce="nonce-1",
        )


def test_google_revoke(http: httpx.Client, google: GoogleStandIn) -> None:
    verifier = secrets.token_urlsafe(48)
    code = google_code(http, google, verifier, access_type="offline")
    body = google_token(http, google, code, verifier).json()
    assert (
        http.post(f"{google.url}/revoke", data={"token": body["refresh_token"]}).status_code == 200
    )
    assert google.revoked == [body["refresh_token"]]
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    assert http.get(f"{google.url}/v1/userinfo", headers=auth).status_code == 401
    assert http.post(f"{google.url}/revoke", data={"token": "unknown"}).status_code == 400


def test_fixture_env_keys(idp_env: dict[str, str]) -> None:
    assert set(idp_env) == {
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "GOOGLE_DISCOVERY_URL",
        "APPLE_CLIENT_ID",
        "APPLE_TEAM_ID",
        "APPLE_KEY_ID",
        "APPLE_PRIVATE_KEY",
        "APPLE_ISSUER",
        "APPLE_AUTHORIZE_URL",
        "APPLE_TOKEN_URL",
        "APPLE_JWKS_URL",
        "APPLE_REVOKE_URL",
    }
    assert idp_env["APPLE_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY-----")
