"""Pytest fixtures for the stand-in identity providers.

Enable with ``pytest_plugins = ["tests.support.idp_fixtures"]`` in the root conftest (or import
the fixtures into a conftest). One server per provider for the whole session (start-up and RSA
key generation happen once); the function-scoped fixtures ``reset()`` it before each test, so a
test sees no codes, tokens, request log, tamper mode or first-login memory of another test.
URL, client credentials, keys and allowed redirect URIs survive ``reset()``, so an app started
once per session with ``idp_env`` stays valid.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixtures import LiveServer, start_server, stop_server
from tests.support.idp_apple import AppleStandIn
from tests.support.idp_common import StandInBase
from tests.support.idp_google import GoogleStandIn


@pytest.fixture(scope="session")
def google_idp_server() -> Iterator[GoogleStandIn]:
    """The session's Google stand-in (not reset between tests; prefer ``google_idp``)."""
    server = GoogleStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def apple_idp_server() -> Iterator[AppleStandIn]:
    """The session's Apple stand-in (not reset between tests; prefer ``apple_idp``)."""
    server = AppleStandIn()
    server.start()
    yield server
    server.stop()


def _reset_and_watch(idp: StandInBase) -> Iterator[None]:
    idp.reset()
    seen = len(idp.errors)
    yield
    if len(idp.errors) > seen:  # a bug in the stand-in, not in the app: say so loudly
        pytest.fail(f"{type(idp).__name__} crashed:\n" + "\n".join(idp.errors[seen:]))


@pytest.fixture
def google_idp(google_idp_server: GoogleStandIn) -> Iterator[GoogleStandIn]:
    """The Google stand-in, reset for this test."""
    for _ in _reset_and_watch(google_idp_server):
        yield google_idp_server


@pytest.fixture
def apple_idp(apple_idp_server: AppleStandIn) -> Iterator[AppleStandIn]:
    """The Apple stand-in, reset for this test."""
    for _ in _reset_and_watch(apple_idp_server):
        yield apple_idp_server


@pytest.fixture(scope="session")
def idp_env(google_idp_server: GoogleStandIn, apple_idp_server: AppleStandIn) -> dict[str, str]:
    """GOOGLE_* and APPLE_* environment variables for an app wired to both stand-ins."""
    return {**google_idp_server.env(), **apple_idp_server.env()}


ADMIN_EMAIL = "grace@example.com"
ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef"


@pytest.fixture(scope="session")
def signin_server(
    var_dir: Path,
    idp_env: dict[str, str],
    google_idp_server: GoogleStandIn,
    apple_idp_server: AppleStandIn,
) -> Iterator[LiveServer]:
    """`oo serve` wired to both stand-ins, with an admin seed e-mail and ADMIN_TOKEN."""
    env = {**idp_env, "ADMIN_SEED_EMAIL": ADMIN_EMAIL, "ADMIN_TOKEN": ADMIN_TOKEN}
    server = start_server(var_dir, with_worker=False, extra_env=env)
    google_idp_server.allow_redirect(f"{server.url}/auth/google/callback")
    apple_idp_server.allow_redirect(f"{server.url}/auth/apple/callback")
    yield server
    stop_server(server)
