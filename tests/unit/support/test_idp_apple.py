"""Self-test of the Apple stand-in, driven with plain httpx as an app would."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from joserfc import errors, jwt
from joserfc.jwk import KeySet

from tests.support.idp import (
    AppleStandIn,
    make_apple_client_key,
    make_apple_client_secret,
    parse_form_post,
)
from tests.unit.support.client import APPLE_CB, verify_id_token


def apple_authorize(
    http: httpx.Client, idp: AppleStandIn, nonce: str = "apple-nonce"
) -> dict[str, str]:
    params = {
        "client_id": idp.client_id,
        "redirect_uri": APPLE_CB,
        "response_type": "code",
        "scope": "name email",
        "response_mode": "form_post",
        "state": "apple-state",
        "nonce": nonce,
    }
    resp = http.get(idp.env()["APPLE_AUTHORIZE_URL"], params=params)
    assert resp.status_code == 200, resp.text
    action, fields = parse_form_post(resp.text)
    assert action == APPLE_CB
    assert fields["state"] == "apple-state"
    return fields


def apple_token(http: httpx.Client, idp: AppleStandIn, code: str, secret: str) -> httpx.Response:
    form = {
        "client_id": idp.client_id,
        "client_secret": secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": APPLE_CB,
    }
    return http.post(idp.env()["APPLE_TOKEN_URL"], data=form)


def test_apple_first_and_second_login(http: httpx.Client, apple: AppleStandIn) -> None:
    env = apple.env()
    first = apple_authorize(http, apple)
    user = json.loads(first["user"])
    assert user == {
        "name": {"firstName": "Ada", "lastName": "Lovelace"},
        "email": "ada@example.com",
    }
    form_claims = verify_id_token(
        http, env["APPLE_JWKS_URL"], first["id_token"], nonce="apple-nonce"
    )
    assert "c_hash" in form_claims

    secret = make_apple_client_secret(
        env["APPLE_PRIVATE_KEY"],
        team_id=env["APPLE_TEAM_ID"],
        client_id=env["APPLE_CLIENT_ID"],
        key_id=env["APPLE_KEY_ID"],
    )
    resp = apple_token(http, apple, first["code"], secret)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {"access_token", "token_type", "expires_in", "refresh_token", "id_token"} <= set(body)
    claims = verify_id_token(
        http,
        env["APPLE_JWKS_URL"],
        body["id_token"],
        iss=env["APPLE_ISSUER"],
        aud=apple.client_id,
        nonce="apple-nonce",
    )
    assert claims["email"] == "ada@example.com"
    assert claims["email_verified"] == "true"
    assert claims["is_private_email"] == "false"
    assert claims["sub"] == apple.accounts["ada@example.com"][0]

    second = apple_authorize(http, apple, nonce="second")
    assert "user" not in second
    again = apple_token(http, apple, second["code"], secret).json()
    assert (
        jwt.decode(again["id_token"], KeySet.import_key_set(apple.jwks())).claims["sub"]
        == claims["sub"]
    )

    replay = apple_token(http, apple, first["code"], secret)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")


def test_apple_private_relay_account(http: httpx.Client, apple: AppleStandIn) -> None:
    relay = next(e for e in apple.accounts if e.endswith("@privaterelay.appleid.com"))
    apple.next_account = relay
    fields = apple_authorize(http, apple)
    assert json.loads(fields["user"])["email"] == relay
    body = apple_token(http, apple, fields["code"], apple.client_secret()).json()
    claims = jwt.decode(body["id_token"], KeySet.import_key_set(apple.jwks())).claims
    assert (claims["email"], claims["is_private_email"]) == (relay, "true")


def _bad_secrets(apple: AppleStandIn) -> dict[str, str]:
    other_key, _, _ = make_apple_client_key()
    now = int(time.time())
    args = {"team_id": apple.team_id, "client_id": apple.client_id, "key_id": apple.key_id}
    return {
        "other key": make_apple_client_secret(other_key, **args),
        "wrong kid": apple.client_secret(key_id="OTHERKID00"),
        "wrong team": apple.client_secret(team_id="OTHERTEAM0"),
        "wrong sub": apple.client_secret(client_id="com.example.other"),
        "wrong aud": apple.client_secret(audience="https://example.com"),
        "expired": apple.client_secret(issued_at=now - 7200, lifetime=3600),
        "over 6 months": apple.client_secret(lifetime=200 * 86400),
        "not a jwt": "secret",
    }


def test_apple_rejects_bad_client_secrets(http: httpx.Client, apple: AppleStandIn) -> None:
    for why, secret in _bad_secrets(apple).items():
        code = apple_authorize(http, apple)["code"]
        resp = apple_token(http, apple, code, secret)
        assert (resp.status_code, resp.json()["error"]) == (400, "invalid_client"), why
    code = apple_authorize(http, apple)["code"]
    assert apple_token(http, apple, code, apple.client_secret()).status_code == 200


def test_apple_consent_page_then_form_post(http: httpx.Client, apple: AppleStandIn) -> None:
    apple.auto_approve = False
    params = {
        "client_id": apple.client_id,
        "redirect_uri": APPLE_CB,
        "response_type": "code",
        "scope": "name email",
        "response_mode": "form_post",
        "state": "s",
        "nonce": "n",
    }
    page = http.get(f"{apple.url}/auth/authorize", params=params)
    assert 'id="approve"' in page.text
    action, fields = parse_form_post(page.text)
    posted = http.post(apple.url + action, data={**fields, "decision": "approve"})
    target, result = parse_form_post(posted.text)
    assert target == APPLE_CB
    assert {"code", "state", "id_token", "user"} <= set(result)
    assert "document.forms[0].submit()" in posted.text


def test_apple_requires_form_post_for_scopes(http: httpx.Client, apple: AppleStandIn) -> None:
    params = {
        "client_id": apple.client_id,
        "redirect_uri": APPLE_CB,
        "response_type": "code",
        "scope": "name email",
        "state": "s",
        "nonce": "n",
    }
    assert http.get(f"{apple.url}/auth/authorize", params=params).status_code == 400


def test_apple_tamper_and_refresh(http: httpx.Client, apple: AppleStandIn) -> None:
    apple.tamper = "wrong_audience"
    fields = apple_authorize(http, apple)
    body = apple_token(http, apple, fields["code"], apple.client_secret()).json()
    for token in (fields["id_token"], body["id_token"]):
        with pytest.raises(errors.InvalidClaimError):
            verify_id_token(http, f"{apple.url}/auth/keys", token, aud=apple.client_id)
    apple.tamper = None
    form = {
        "client_id": apple.client_id,
        "client_secret": apple.client_secret(),
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
    }
    refreshed = http.post(f"{apple.url}/auth/token", data=form)
    assert refreshed.status_code == 200, refreshed.text
    verify_id_token(
        http, f"{apple.url}/auth/keys", refreshed.json()["id_token"], aud=apple.client_id
    )


def test_apple_revoke_makes_next_login_first(http: httpx.Client, apple: AppleStandIn) -> None:
    fields = apple_authorize(http, apple)
    assert "user" in fields
    body = apple_token(http, apple, fields["code"], apple.client_secret()).json()
    assert "user" not in apple_authorize(http, apple)
    form = {
        "client_id": apple.client_id,
        "client_secret": apple.client_secret(),
        "token": body["refresh_token"],
        "token_type_hint": "refresh_token",
    }
    assert http.post(apple.env()["APPLE_REVOKE_URL"], data=form).status_code == 200
    assert apple.revoked == [body["refresh_token"]]
    assert "user" in apple_authorize(http, apple)
    form["client_secret"] = "forged"
    assert http.post(apple.env()["APPLE_REVOKE_URL"], data=form).status_code == 400
