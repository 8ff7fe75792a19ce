"""PostgreSQL restarts under `oo serve` (its own instance, started here): inside the window
every answer is a clear SERVICE_UNAVAILABLE (GraphQL) or 503 with Retry-After (pages, API),
never an internal error; once it is back the next requests succeed without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_DB
from tests.support.deployment import demo_token_and_link
from tests.support.fixtures import ROOT, LiveServer, start_server, stop_server
from tests.support.own_postgres import OwnPostgres

pytestmark = pytest.mark.skipif(TEST_DB != "postgres", reason="fault tests run on PostgreSQL")

TOKEN_QUERY = "{ tip { id } }"
RECOVERY_S = 30.0


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def server_on_own_postgres(var_dir: Path, own_postgres: OwnPostgres) -> Iterator[LiveServer]:
    env = {**os.environ, "DATABASE_URL": own_postgres.url}
    oo = str(Path(sys.executable).parent / "oo")
    subprocess.run([oo, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = start_server(var_dir, with_worker=False, extra_env={"DATABASE_URL": own_postgres.url})
    yield server
    stop_server(server)


def test_a_database_restart_answers_service_unavailable_then_recovers(
    server_on_own_postgres: LiveServer, own_postgres: OwnPostgres
) -> None:
    token, link = demo_token_and_link(own_postgres.url)
    headers = {"Authorization": f"Bearer {token}"}
    with (
        server_on_own_postgres.client(headers=headers) as client,
        server_on_own_postgres.client() as browser,
    ):
        browser.get(link)
        assert browser.get("/tip").status_code == 200, "signed in by cookie"
        ok = client.post("/graphql", json={"query": TOKEN_QUERY}).json()
        assert "errors" not in ok, ok

        own_postgres.stop()
        body = client.post("/graphql", json={"query": TOKEN_QUERY}).json()
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
        assert "INTERNAL_SERVER_ERROR" not in str(body)
        # A person's page during the window: the friendly 503, not "sign in again".
        page = browser.get("/tip", headers={"accept": "text/html"})
        assert page.status_code == 503, page.status_code
        assert page.headers["retry-after"]
        assert "Back in a moment" in page.text
        ready = client.get("/readyz")
        assert ready.status_code == 503

        own_postgres.start()
        deadline = time.monotonic() + RECOVERY_S
        while True:
            try:
                body = client.post("/graphql", json={"query": TOKEN_QUERY}).json()
            except httpx.HTTPError:
                body = {"errors": ["no answer"]}
            if "errors" not in body or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert "errors" not in body, body
