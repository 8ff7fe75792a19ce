"""HTTP plumbing shared by the stand-in identity providers (see ``tests/support/idp.py``).

A raw ASGI app (no framework: a dozen lines, and nothing that could warn under
``filterwarnings=error``) served by uvicorn from a background thread on 127.0.0.1, the id_token
tamper knobs, and the small HTML pages (consent, auto-submitting ``form_post``) with a parser for
tests that act as the browser. The OAuth parts are in ``idp_oauth``.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

if TYPE_CHECKING:
    from tests.support.idp_oauth import Account, AuthCode, IssuedToken

log = logging.getLogger(__name__)

TAMPER_MODES = (None, "wrong_nonce", "expired", "wrong_audience", "bad_signature", "wrong_issuer")


# --------------------------------------------------------------------------- HTTP layer


@dataclass
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    url: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: httpx.Headers

    @property
    def params(self) -> dict[str, str]:
        """Query and form fields, first value of each (form wins)."""
        merged = {k: v[0] for k, v in self.query.items() if v}
        merged.update({k: v[0] for k, v in self.form.items() if v})
        return merged


@dataclass
class Response:
    """What a handler returns."""

    status: int
    body: Any = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        return cls(status, data, [("Content-Type", "application/json")])

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text, [("Content-Type", "text/html; charset=utf-8")])

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[Request], Response]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class StandInBase:
    """A stand-in provider: a raw ASGI app served by uvicorn in a background thread.

    The listening socket is bound in ``__init__`` so ``url`` is known before ``start()``.
    """

    kid_prefix = "idp"

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that say TCP (else
        # Nagle + delayed ACK add 40 ms to every keep-alive request).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{host_name}:{self.port}"
        self.kid = f"{self.kid_prefix}-{secrets.token_hex(4)}"
        params = {"kid": self.kid, "use": "sig", "alg": "RS256"}
        self.signing_key = RSAKey.generate_key(2048, parameters=params)  # type: ignore[arg-type]
        # Same kid, different key: a token signed with it fails verification against the JWKS.
        self._impostor_key = RSAKey.generate_key(2048, parameters=params)  # type: ignore[arg-type]
        self.redirect_uris: set[str] = set()
        self.errors: list[str] = []  # tracebacks of handler crashes (a bug in the stand-in)
        self._routes: dict[tuple[str, str], Handler] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # ----------------------------------------------------------------- state and knobs

    def reset(self) -> None:
        """Forget everything a test did; keep clients, keys, URL and allowed redirect URIs."""
        self.tamper: str | None = None
        self.next_account: str | None = None
        self.auto_approve = False
        self.require_nonce = True
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.revoked: list[str] = []
        self.codes: dict[str, AuthCode] = {}
        self.tokens: list[IssuedToken] = []

    def allow_redirect(self, uri: str) -> None:
        """Register a redirect URI the stand-in's client accepts (exact match)."""
        self.redirect_uris.add(uri)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document."""
        return KeySet([self.signing_key]).as_dict(private=False)

    def find_token(self, value: str) -> IssuedToken | None:
        """The issued token whose access or refresh token is ``value``."""
        for tok in self.tokens:
            if value in (tok.access_token, tok.refresh_token):
                return tok
        return None

    # ----------------------------------------------------------------- id_token helpers

    def id_token_base_claims(self, client_id: str, issuer: str) -> dict[str, Any]:
        """iss / aud / iat / exp, bent by ``self.tamper``."""
        if self.tamper not in TAMPER_MODES:
            raise ValueError(f"unknown tamper mode {self.tamper!r}")
        now = int(time.time())
        claims: dict[str, Any] = {"iss": issuer, "aud": client_id, "iat": now, "exp": now + 3600}
        if self.tamper == "expired":
            claims.update(iat=now - 7200, exp=now - 3600, auth_time=now - 7200)
        elif self.tamper == "wrong_audience":
            claims["aud"] = "someone-else.example.com"
        elif self.tamper == "wrong_issuer":
            claims["iss"] = "https://impostor.example.com"
        return claims

    def id_token_nonce(self, nonce: str | None) -> str | None:
        if self.tamper == "wrong_nonce":
            return "not-" + secrets.token_urlsafe(16)
        return nonce

    def id_token_key(self) -> RSAKey:
        return self._impostor_key if self.tamper == "bad_signature" else self.signing_key

    def encode_id_token(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": self.kid}
        return jwt.encode(header, claims, self.id_token_key(), ["RS256"])

    # ----------------------------------------------------------------- server lifecycle

    def route(self, method: str, path: str, handler: Handler) -> None:
        self._routes[(method, path)] = handler

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
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=60)
        self._sock.close()

    def __enter__(self) -> StandInBase:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = httpx.Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        )
        query_string = scope.get("query_string", b"").decode()
        form: dict[str, list[str]] = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode(), keep_blank_values=True)
        url = self.url + scope["path"] + (f"?{query_string}" if query_string else "")
        req = Request(
            scope["method"],
            scope["path"],
            url,
            parse_qs(query_string, keep_blank_values=True),
            form,
            headers,
        )
        self.requests.append((req.method, req.path, req.params))
        handler = self._routes.get((req.method, req.path))
        if handler is None:
            known = any(path == req.path for _, path in self._routes)
            resp = Response.json({"error": "not_found"}, 405 if known else 404)
        else:
            try:
                resp = handler(req)
            except Exception:
                self.errors.append(traceback.format_exc())
                log.exception("stand-in handler crashed")
                resp = Response(500, b"stand-in crashed", [("Content-Type", "text/plain")])
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in resp.headers]
        await send({"type": "http.response.start", "status": resp.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": resp.encoded()})


# --------------------------------------------------------------------------- HTML helpers


def hidden_inputs(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )


def auto_submit_form(action: str, fields: dict[str, str]) -> str:
    """An HTML page that POSTs ``fields`` to ``action`` on load (``response_mode=form_post``)."""
    return (
        "<!doctype html><html><head><title>Redirecting…</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(action)}">{hidden_inputs(fields)}'
        "<noscript><button type=submit>Continue</button></noscript></form></body></html>"
    )


def consent_page(
    title: str, account: Account, client_id: str, action: str, fields: dict[str, str]
) -> str:
    """A small consent page: the account, a Continue button (#approve) and Cancel (#deny)."""
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p>Continue to <b id="client">{html.escape(client_id)}</b> as '
        f'<b id="account-name">{html.escape(account.name)}</b> '
        f'(<span id="account-email">{html.escape(account.email)}</span>)?</p>'
        f'<form method="post" action="{html.escape(action)}">{hidden_inputs(fields)}'
        '<button id="approve" type="submit" name="decision" value="approve">Continue</button> '
        '<button id="deny" type="submit" name="decision" value="deny">Cancel</button>'
        "</form></body></html>"
    )


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and self.action is None:
            self.action = attr.get("action", "")
            self._in_form = True
        elif tag == "input" and self._in_form and "name" in attr:
            self.fields[attr["name"]] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


def parse_form_post(page: str) -> tuple[str, dict[str, str]]:
    """(action, fields) of the first form in ``page`` — e.g. Apple's auto-submitting form_post page.

    Buttons are not included; add ``decision=approve`` yourself to submit a consent page.
    """
    parser = _FormParser()
    parser.feed(page)
    if parser.action is None:
        raise ValueError("no <form> in page")
    return parser.action, parser.fields
