"""The endpoint allow-list, the payload limits and headers, Retry-After parsing, action tokens."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest

from backend.contracts.errors import Refused
from backend.notifier import action_tokens
from backend.notifier.delivery import Answer, retry_after, retry_delay, should_retry
from backend.notifier.endpoints import check_endpoint, host_allowed
from backend.notifier.message import MAX_PLAINTEXT, TOPIC, PushTip, headers, payload
from backend.settings.sections import DEFAULT_PUSH_HOSTS


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
        "https://wns2-db5p.notify.windows.com/w/?token=x",
        "https://web.push.apple.com/QO3Jv",
        "https://api.push.apple.com/3/device/x",
    ],
)
def test_production_accepts_the_known_push_services(endpoint: str) -> None:
    assert check_endpoint(endpoint, production=True, allowed=DEFAULT_PUSH_HOSTS) == endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "https://fcm.googleapis.com:8443/fcm/send/abc",  # another port
        "https://notify.windows.com/x",  # "*." means a subdomain, not the domain itself
        "https://evilnotify.windows.com.example/x",
        "https://user:pw@fcm.googleapis.com/x",
        "http://127.0.0.1:9000/push/x",  # loopback only outside production
        "https://localhost/push/x",
    ],
)
def test_production_refuses_everything_else(endpoint: str) -> None:
    with pytest.raises(Refused) as refused:
        check_endpoint(endpoint, production=True, allowed=DEFAULT_PUSH_HOSTS)
    assert refused.value.code in {"ENDPOINT_NOT_ALLOWED", "INVALID_SUBSCRIPTION"}


def test_outside_production_loopback_is_accepted_but_not_other_addresses() -> None:
    for ok in ("http://127.0.0.1:9000/push/x", "http://localhost/p", "http://[::1]:8080/p"):
        assert check_endpoint(ok, production=False, allowed=()) == ok
    for bad in ("http://10.1.2.3/p", "http://127.0.0.2/p", "ftp://127.0.0.1/p"):
        with pytest.raises(Refused):
            check_endpoint(bad, production=False, allowed=())


def test_wildcards_match_subdomains_only() -> None:
    assert host_allowed("a.b.push.apple.com", ["*.push.apple.com"])
    assert not host_allowed("push.apple.com", ["*.push.apple.com"])
    assert not host_allowed("xpush.apple.com", ["*.push.apple.com"])


def _tip(content: str, due_now: bool = False, expires_in: int = 600) -> PushTip:
    return PushTip("tip-1", content, "task", int(time.time()) + expires_in, due_now)


def test_payload_carries_the_tip_and_two_tokens_of_one_notification() -> None:
    body = json.loads(payload("user-1", _tip("Call the bank")))
    assert body["tip"] == {"id": "tip-1", "content": "Call the bank", "kind": "task"}
    done = action_tokens.verify(body["actions"]["done"])
    snooze = action_tokens.verify(body["actions"]["snooze"])
    assert (done.user_id, done.tip_id, done.action) == ("user-1", "tip-1", "done")
    assert snooze.action == "snooze"
    assert snooze.nonce == done.nonce


def test_payload_is_cut_to_fit_and_shortened_on_request() -> None:
    huge = payload("u", _tip("ü" * 4000))
    assert len(huge) <= MAX_PLAINTEXT
    assert json.loads(huge)["tip"]["content"].endswith("…")
    short = json.loads(payload("u", _tip("x" * 1000), shortened=True))
    assert len(short["tip"]["content"]) == 140


def test_headers_ttl_urgency_topic() -> None:
    now = time.time()
    ttl, extra = headers(_tip("x", due_now=True, expires_in=600), now=now)
    assert 599 <= ttl <= 600
    assert extra == {"Urgency": "high", "Topic": TOPIC}
    ttl, extra = headers(_tip("x", expires_in=-10), now=now)
    assert ttl == 0
    assert extra["Urgency"] == "normal"
    assert len(TOPIC) <= 32


def test_retry_after_seconds_or_date_and_the_backoff() -> None:
    now = time.time()
    assert retry_after("120") == 120
    assert retry_after(formatdate(now + 30, usegmt=True), now=now) in {29, 30}
    assert retry_after("soon") is None
    assert retry_after(None) is None
    assert retry_delay(Answer(429, 3, 1.0), tries=1) == 3
    assert retry_delay(Answer(503, None, 1.0), tries=3) == 8
    assert [s for s in (201, 400, 403, 404, 410, 413, 429, 500, 503, 0) if should_retry(s)] == [
        429,
        500,
        503,
        0,
    ]


def test_tokens_refuse_tampering_expiry_and_other_keys() -> None:
    token = action_tokens.mint("u", "t", "done", int(time.time()) + 60, "n1")
    assert action_tokens.verify(token).action == "done"
    with pytest.raises(Refused) as expired:
        action_tokens.verify(token, now=time.time() + 61)
    assert expired.value.code == "TOKEN_EXPIRED"
    body, _, sig = token.partition(".")
    other = "B" if sig[0] == "A" else "A"  # the first character: all its bits count
    with pytest.raises(Refused) as forged:
        action_tokens.verify(f"{body}.{other}{sig[1:]}")
    assert forged.value.code == "INVALID_TOKEN"
    with pytest.raises(ValueError, match="unknown action"):
        action_tokens.mint("u", "t", "dismiss", int(time.time()) + 60, "n")
