"""Fixtures of the stand-in IdP self-tests.

The stand-in fixtures come from the plugins the root conftest lists in ``pytest_plugins``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.idp import AppleStandIn, GoogleStandIn
from tests.unit.support.client import APPLE_CB, GOOGLE_CB


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client (no proxies from the environment)."""
    with httpx.Client(timeout=60, trust_env=False) as client:
        yield client


@pytest.fixture
def google(google_idp: GoogleStandIn) -> GoogleStandIn:
    google_idp.allow_redirect(GOOGLE_CB)
    google_idp.auto_approve = True
    return google_idp


@pytest.fixture
def apple(apple_idp: AppleStandIn) -> AppleStandIn:
    apple_idp.allow_redirect(APPLE_CB)
    apple_idp.auto_approve = True
    return apple_idp
