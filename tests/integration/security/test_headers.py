"""Security headers on pages, API answers, static files and unknown paths; HSTS and Secure
cookies follow the configured public URL, not the request's scheme."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixtures import LiveServer, start_server, stop_server

EVERY_ANSWER = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
}
PATHS = ["/signin", "/healthz", "/static/app.css", "/no-such-page", "/legal/terms"]


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture(scope="module")
def https_server(var_dir: Path) -> Iterator[LiveServer]:
    """A server whose public URL is https (as behind a TLS proxy); it is reached over http."""
    server = start_server(
        var_dir, with_worker=False, extra_env={"OO_BASE_URL": "https://oo.example.test"}
    )
    yield server
    stop_server(server)


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_headers(live_server: LiveServer, path: str) -> None:
    with live_server.client() as client:
        response = client.get(path, headers={"accept": "text/html"})
    for name, value in EVERY_ANSWER.items():
        assert response.headers.get(name) == value, (path, name, response.headers)
    assert "camera=()" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers  # the public URL is http


def test_the_page_policy_allows_no_inline_script(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.get("/signin")
    policy = directives(response.headers["content-security-policy"])
    script = policy["script-src"]
    assert "'self'" in script
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:"} & set(script)
    assert [s for s in script if s.startswith("'nonce-")], script
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]  # same-origin fetch, SSE and WebSocket
    assert policy["default-src"] == ["'self'"]


def test_the_nonce_is_new_on_every_request(live_server: LiveServer) -> None:
    with live_server.client() as client:
        first = client.get("/signin").headers["content-security-policy"]
        second = client.get("/signin").headers["content-security-policy"]
    nonces = [re.findall(r"'nonce-([^']+)'", policy) for policy in (first, second)]
    assert [len(n) for n in nonces] == [1, 1]
    assert nonces[0] != nonces[1]


def test_no_template_has_inline_script_or_handlers() -> None:
    """The page policy holds only while every script is a file: no `<script>` body and no
    on…= attribute in a template."""
    templates = Path(__file__).resolve().parents[3] / "frontend" / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S):
            assert "src=" in match.group(1), template
            assert not match.group(2).strip(), template
        assert not re.search(r"\son[a-z]+\s*=", text), template


def test_the_playground_policy_is_scoped_to_its_page(live_server: LiveServer) -> None:
    """The playground loads script files of our own only (ADR 0024): no outside host and no
    inline script is allowed on it; its one difference is GraphiQL's data: fonts."""
    with live_server.client() as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        api = client.post("/graphql", json={"query": "{ __typename }"})
    assert page.status_code == 200
    playground = directives(page.headers["content-security-policy"])
    assert all(s == "'self'" or s.startswith("'nonce-") for s in playground["script-src"])
    assert playground["font-src"] == ["'self'", "data:"]
    assert playground["connect-src"] == ["'self'"]
    assert playground["frame-ancestors"] == ["'none'"]
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts
    assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts), scripts
    for policy in (page.headers["content-security-policy"], api.headers["content-security-policy"]):
        assert "http" not in policy, policy
    # The relaxation (data: fonts) is not on the API answer of the same path.
    assert directives(api.headers["content-security-policy"])["font-src"] == ["'self'"]


def test_https_base_url_turns_on_hsts_and_secure_cookies(https_server: LiveServer) -> None:
    with https_server.client() as client:
        response = client.get("/signin")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    csrf_cookie = response.headers["set-cookie"]
    assert "csrftoken=" in csrf_cookie
    assert "Secure" in csrf_cookie


async def test_https_session_cookie_is_secure(https_server: LiveServer) -> None:
    from tests.integration.security.support import sign_in_path
    from tests.support.fixtures import make_person

    person = await make_person(tasks=False)
    path = await sign_in_path(person.user_id)
    with https_server.client(follow_redirects=False) as client:
        response = client.get(path)
    assert response.status_code == 303
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("sid=")
    )
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie
