"""Privacy tests never reach a real provider: Google's revoke endpoint is a stand-in here."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from backend.identity import revocation
from backend.settings import get_settings
from tests.integration.privacy.helpers import RevokeStandIn, revoke_stand_in


@pytest.fixture(autouse=True)
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[RevokeStandIn]:
    """Google's revoke endpoint, played by a server on 127.0.0.1 (records what it is sent)."""
    with revoke_stand_in() as server:
        patched = dataclasses.replace(get_settings(), google_revoke_url=server.url)
        monkeypatch.setattr(revocation, "get_settings", lambda: patched)
        yield server
