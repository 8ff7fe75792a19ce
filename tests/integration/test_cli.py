"""The `oo` command: tokens, the demo link, and refusals that are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.fixtures import ROOT, LiveServer, make_person

OO = str(Path(sys.executable).parent / "oo")
ME = "query { me { id email } }"


def oo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OO, *args],
        env=env if env is not None else dict(os.environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
        check=False,
    )


def assert_one_line_refusal(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("oo: ")
    assert needle in lines[0]
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


async def test_token_create_prints_a_working_token(live_server: LiveServer) -> None:
    p = await make_person(tasks=False)
    done = oo("token", "create", "--email", p.email, "--name", "laptop")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("oo_pat_")
    assert len(token) > 40
    assert "\n" not in token

    with live_server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        body = client.post("/graphql", json={"query": ME}).json()
    assert body["data"]["me"] == {"id": p.user_id, "email": p.email}

    from backend.identity.tables import ApiToken

    rows = await ApiToken.select(ApiToken.name, ApiToken.token_hash).where(
        ApiToken.user == p.user_id
    )
    assert [r["name"] for r in rows] == ["laptop"]
    assert token not in {r["token_hash"] for r in rows}, "stored hashed, never in clear"


def test_token_create_for_unknown_email() -> None:
    done = oo("token", "create", "--email", "nobody-here@example.test")
    assert_one_line_refusal(done, "nobody-here@example.test")


async def test_demo_link_signs_in_once(live_server: LiveServer) -> None:
    done = oo("demo", env={**os.environ, "OO_BASE_URL": live_server.url})
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith(f"{live_server.url}/auth/link/")

    with httpx.Client(timeout=60, follow_redirects=False) as client:
        first = client.get(link)
        assert first.status_code == 303
        assert first.headers["location"] == "/tip"
        assert "sid" in first.cookies
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        # The session works: the tip page renders instead of sending us to sign in.
        page = client.get(f"{live_server.url}/tip")
        assert page.status_code == 200

    with httpx.Client(timeout=60, follow_redirects=False) as client:
        second = client.get(link)
        assert second.status_code == 400
        assert "sid" not in second.cookies


def test_unknown_link_is_refused(live_server: LiveServer) -> None:
    with live_server.client(follow_redirects=False) as client:
        response = client.get("/auth/link/not-a-real-token")
    assert response.status_code == 400
    assert "sid" not in response.cookies


def test_production_without_settings_refuses_in_one_line() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "OO_SECRET_KEYS"}
    }
    env["OO_ENV"] = "production"
    done = oo("migrate", env=env)
    assert_one_line_refusal(done, "DATABASE_URL")
    assert "REDIS_URL" in done.stderr
    assert "OO_SECRET_KEYS" in done.stderr


def test_bad_port_refuses_in_one_line() -> None:
    done = oo("migrate", env={**os.environ, "OO_PORT": "http"})
    assert_one_line_refusal(done, "OO_PORT")


def test_demo_is_off_in_production() -> None:
    env = {
        **os.environ,
        "OO_ENV": "production",
        "OO_SECRET_KEYS": "s" * 40,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    done = oo("demo", env=env)
    assert_one_line_refusal(done, "demo is off")


async def test_push_rotate_vapid_makes_a_new_public_key() -> None:
    from backend.notifier.vapid import current_key

    before = (await current_key()).public_key
    done = oo("push", "rotate-vapid")
    assert done.returncode == 0, done.stderr
    assert "new VAPID public key" in done.stdout
    after = (await current_key()).public_key
    assert after != before
    assert after in done.stdout


async def test_link_prints_a_fresh_sign_in_link_each_time(live_server: LiveServer) -> None:
    env = {**os.environ, "OO_BASE_URL": live_server.url}
    first, second = oo("link", env=env), oo("link", env=env)
    assert first.returncode == 0, first.stderr
    links = [first.stdout.strip(), second.stdout.strip()]
    assert all(link.startswith(f"{live_server.url}/auth/link/") for link in links)
    assert links[0] != links[1], "a new one-time link each time"
    with httpx.Client(timeout=60, follow_redirects=False) as client:
        assert client.get(links[1]).status_code == 303


def test_the_root_oo_script_and_the_old_one() -> None:
    """`./oo` sets up .venv then hands over to .venv/bin/oo; `.ci/oo` is the same command.
    (Checked without running them: a first run would install into a new .venv.)"""
    root_script, old_script = ROOT / "oo", ROOT / ".ci" / "oo"
    for script in (root_script, old_script, ROOT / ".ci" / "bootstrap"):
        assert os.access(script, os.X_OK), f"{script.name} is executable"
        assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    text = root_script.read_text()
    assert 'source "$ROOT/.ci/bootstrap"' in text
    assert 'exec "$ROOT/.venv/bin/oo" "$@"' in text
    assert '/oo" "$@"' in old_script.read_text()
    bootstrap = (ROOT / ".ci" / "bootstrap").read_text()
    assert "var/install.log" in bootstrap, "pip's output goes to a log, not the terminal"
