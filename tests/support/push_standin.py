"""A Web Push service stand-in on 127.0.0.1: what FCM / Mozilla autopush / Apple do with a push.

``POST /push/{id}`` checks what a real push service checks and what a browser would see:

* VAPID (RFC 8292): ``Authorization: vapid t=<JWT>,k=<public key>``; the JWT is ES256, signed by
  ``k``; ``aud`` is the endpoint's origin; ``exp`` is in the future and at most 24 h away; ``sub``
  is ``mailto:`` or ``https:``. With ``expect_vapid_key`` set, ``k`` must be that key (as a push
  service checks it against the subscription's applicationServerKey). Failures answer 401/403.
* The body is aes128gcm (RFC 8188 / 8291): decrypted with the subscription's private key and
  auth secret (``BrowserSubscription``, made like a browser makes one), so tests read the JSON
  the service worker would get. More than ``max_body`` bytes (4096 by default) answers 413.
* ``TTL`` is required (400 without); ``Urgency`` and ``Topic`` are recorded.
* Knobs: ``answer_next(status, n, retry_after)`` answers the next ``n`` pushes with ``status``
  (410, 429 with Retry-After, 500, …); endpoints in ``gone`` answer 410 for ever; ``max_body``
  lowers the size limit (413 for anything longer).

bench/push_delivery.py uses it too (in a thread of the bench process, with 10,000 browsers).
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import http_ece
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
MAX_EXP_S = 24 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """A PushSubscription as a browser makes one: a P-256 key pair and a 16-byte auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def to_json(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() returns."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class Push:
    """A push the stand-in accepted (or refused), as the browser would get it."""

    endpoint_id: str
    status: int
    at: float
    headers: dict[str, str]
    body_size: int
    message: dict[str, Any] | None = None
    """The decrypted JSON (None when refused before decryption)."""
    jwt_claims: dict[str, Any] | None = None
    problem: str = ""


class PushStandIn:
    """The push service stand-in (uvicorn in a background thread)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget pushes, browsers and knobs."""
        with self._lock:
            self.browsers: dict[str, BrowserSubscription] = {}
            self.pushes: list[Push] = []
            self._answers: list[tuple[int, int | None]] = []
            self.gone: set[str] = set()
            self.max_body = 4096
            self.expect_vapid_key: str | None = None
            self.decrypt = True

    # ----------------------------------------------------------------- for tests

    def new_browser(self) -> BrowserSubscription:
        """A fresh browser subscription whose endpoint is on this stand-in."""
        endpoint_id = secrets.token_urlsafe(16)
        browser = BrowserSubscription(f"{self.url}/push/{endpoint_id}")
        with self._lock:
            self.browsers[endpoint_id] = browser
        return browser

    def answer_next(self, status: int, n: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``n`` pushes with ``status`` (after checking VAPID and the body)."""
        with self._lock:
            self._answers.extend([(status, retry_after)] * n)

    def received(self, status: int | None = 201) -> list[Push]:
        """The pushes answered with ``status`` (all with None), oldest first."""
        with self._lock:
            return [p for p in self.pushes if status is None or p.status == status]

    def wait_for(self, count: int, status: int | None = 201, timeout: float = 20.0) -> list[Push]:
        """Block until ``count`` pushes with ``status`` arrived (deadline, then AssertionError)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.received(status)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} pushes ({status}) in {timeout} s")
            time.sleep(0.05)

    # ----------------------------------------------------------------- checks

    def _check_vapid(self, authorization: str, endpoint: str) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise PermissionError("401 Authorization is not vapid")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t", ""), parts.get("k", "")
        if self.expect_vapid_key is not None and key != self.expect_vapid_key:
            raise PermissionError("403 k is not the subscription's applicationServerKey")
        header_b64, payload_b64, sig_b64 = token.split(".")
        header = json.loads(unb64url(header_b64))
        if header.get("alg") != "ES256":
            raise PermissionError("401 alg is not ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        sig = unb64url(sig_b64)
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            public.verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise PermissionError("401 bad JWT signature") from None
        claims: dict[str, Any] = json.loads(unb64url(payload_b64))
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
        if claims.get("aud") != origin:
            raise PermissionError(f"401 aud {claims.get('aud')!r} is not {origin!r}")
        now = time.time()
        exp = int(claims.get("exp", 0))
        if not now < exp <= now + MAX_EXP_S:
            raise PermissionError("401 exp is past or more than 24 h away")
        sub = str(claims.get("sub", ""))
        if not sub.startswith(("mailto:", "https:")):
            raise PermissionError("401 sub is not mailto: or https:")
        return claims

    def _handle(self, endpoint_id: str, headers: dict[str, str], body: bytes) -> Push:
        endpoint = f"{self.url}/push/{endpoint_id}"
        push = Push(endpoint_id, 201, time.time(), headers, len(body))
        browser = self.browsers.get(endpoint_id)
        if browser is None or endpoint_id in self.gone:
            push.status, push.problem = 410, "unknown or expired subscription"
            return push
        try:
            push.jwt_claims = self._check_vapid(headers.get("authorization", ""), endpoint)
        except (PermissionError, ValueError, KeyError) as err:
            text = str(err)
            push.status = int(text[:3]) if text[:3].isdigit() else 401
            push.problem = text
            return push
        if "ttl" not in headers:
            push.status, push.problem = 400, "TTL header missing"
            return push
        if len(body) > self.max_body:
            push.status, push.problem = 413, f"{len(body)} bytes > {self.max_body}"
            return push
        if headers.get("content-encoding") != "aes128gcm":
            push.status, push.problem = 400, "Content-Encoding is not aes128gcm"
            return push
        if self.decrypt:
            plain = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
            push.message = json.loads(plain)
        with self._lock:
            if self._answers:
                push.status, retry_after = self._answers.pop(0)
                if retry_after is not None:
                    push.headers = {**headers, "x-answered-retry-after": str(retry_after)}
        return push

    # ----------------------------------------------------------------- server

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        if scope["method"] != "POST" or not path.startswith("/push/"):
            status, extra = 404, []
        else:
            push = self._handle(path.removeprefix("/push/"), headers, body)
            with self._lock:
                self.pushes.append(push)
            status, extra = push.status, []
            if "x-answered-retry-after" in push.headers:
                extra.append((b"retry-after", push.headers["x-answered-retry-after"].encode()))
            if status == 201:
                extra.append((b"location", f"{self.url}/m/{secrets.token_hex(8)}".encode()))
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": b""})

    def start(self) -> None:
        config = uvicorn.Config(
            self,
            interface="asgi3",
            lifespan="off",
            ws="none",
            http="h11",
            loop="asyncio",
            log_config=None,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"PushStandIn:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("PushStandIn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=60)
        self._sock.close()
