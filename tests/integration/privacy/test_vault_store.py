"""Stored provider credentials: sealed at rest, opened on read, rotated by `oo rotate-keys`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.identity import vault
from backend.identity.rekey import rotate_keys
from backend.identity.tables import ProviderCredential
from backend.identity.vault import (
    Vault,
    VaultError,
    delete_credential,
    get_credential,
    list_providers,
    store_credential,
)
from backend.settings import get_settings
from tests.support.fixtures import make_person

OLD = "rotation-old-key-0123456789abcdef0123456789"
ROOT = Path(__file__).resolve().parents[3]


async def test_store_get_list_delete() -> None:
    person = await make_person(tasks=False)
    expires = datetime.now(UTC) + timedelta(hours=1)
    cid = await store_credential(
        person.user_id, "google", "sub-1", "access-1", "refresh-1", expires, ["calendar", "tasks"]
    )
    row = await ProviderCredential.select().where(ProviderCredential.id == cid).first()
    assert row is not None
    assert "access-1" not in row["access_token_enc"]
    assert "refresh-1" not in row["refresh_token_enc"]

    credential = await get_credential(person.user_id, "google")
    assert credential is not None
    assert credential.access_token.reveal() == "access-1"
    assert credential.refresh_token is not None
    assert credential.refresh_token.reveal() == "refresh-1"
    assert credential.scopes == ("calendar", "tasks")
    assert "access-1" not in repr(credential)

    # A refresh without a new refresh token keeps the stored one.
    assert (
        await store_credential(person.user_id, "google", "sub-1", "access-2", None, expires) == cid
    )
    again = await get_credential(person.user_id, "google")
    assert again is not None
    assert again.access_token.reveal() == "access-2"
    assert again.refresh_token is not None
    assert again.refresh_token.reveal() == "refresh-1"

    providers = await list_providers(person.user_id)
    assert [(p.provider, p.subject) for p in providers] == [("google", "sub-1")]
    assert "access" not in repr(providers)

    assert await delete_credential(person.user_id, "google") == 1
    assert await get_credential(person.user_id, "google") is None


async def test_a_sealed_value_moved_to_another_row_does_not_open() -> None:
    a = await make_person(tasks=False)
    b = await make_person(tasks=False)
    await store_credential(a.user_id, "google", "a", "token-of-a", None, None)
    await store_credential(b.user_id, "google", "b", "token-of-b", None, None)
    stolen = await ProviderCredential.select().where(ProviderCredential.user == a.user_id).first()
    assert stolen is not None
    await ProviderCredential.update(
        {ProviderCredential.access_token_enc: stolen["access_token_enc"]}
    ).where(ProviderCredential.user == b.user_id)
    with pytest.raises(VaultError):
        await get_credential(b.user_id, "google")
    await ProviderCredential.delete().where(ProviderCredential.user == b.user_id)


# The suite's own key plays the "new" key: rotating from OLD to it touches only the rows these
# tests sealed under OLD, so live servers and workers of other tests never see a key they lack.


async def test_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    person = await make_person(tasks=False)
    new = get_settings().secret_keys[0]
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([OLD]))
    await store_credential(person.user_id, "google", "s", "acc", "ref", None)
    sealed = await ProviderCredential.select().where(ProviderCredential.user == person.user_id)
    # Deploy step 1: the new key in front, the old one kept — old values still open.
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([new, OLD]))
    credential = await get_credential(person.user_id, "google")
    assert credential is not None
    assert credential.access_token.reveal() == "acc"

    report = await rotate_keys(Vault([new, OLD]))
    assert report.resealed == 2  # this person's access and refresh token; nothing else moved
    assert report.total >= 2
    assert (await rotate_keys(Vault([new, OLD]))).resealed == 0  # idempotent
    resealed = await ProviderCredential.select().where(ProviderCredential.user == person.user_id)
    assert resealed[0]["access_token_enc"] != sealed[0]["access_token_enc"]

    # Step 2: the old key removed — everything still opens; the old key alone no longer does.
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([new]))
    credential = await get_credential(person.user_id, "google")
    assert credential is not None
    assert credential.refresh_token is not None
    assert credential.refresh_token.reveal() == "ref"
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([OLD]))
    with pytest.raises(VaultError):
        await get_credential(person.user_id, "google")


async def test_oo_rotate_keys_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    person = await make_person(tasks=False)
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([OLD]))
    await store_credential(person.user_id, "google", "cli", "cli-acc", "cli-ref", None)
    new = get_settings().secret_keys[0]
    env = {**os.environ, "OO_SECRET_KEYS": f"{new},{OLD}"}
    oo = str(Path(sys.executable).parent / "oo")
    done = await asyncio.to_thread(
        subprocess.run,
        [oo, "rotate-keys"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a deadline for a loaded machine, not an expected duration
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("re-encrypted 2 of ")
    assert "cli-acc" not in done.stdout + done.stderr
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([new]))
    credential = await get_credential(person.user_id, "google")
    assert credential is not None
    assert credential.access_token.reveal() == "cli-acc"


async def test_oo_rotate_keys_refuses_when_a_key_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = await make_person(tasks=False)
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([OLD]))
    await store_credential(person.user_id, "google", "lost", "lost-acc", None, None)
    env = {**os.environ, "OO_SECRET_KEYS": get_settings().secret_keys[0]}
    oo = str(Path(sys.executable).parent / "oo")
    try:
        done = await asyncio.to_thread(
            subprocess.run, [oo, "rotate-keys"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 2
        assert "no key in OO_SECRET_KEYS opens" in done.stderr
        assert "lost-acc" not in done.stdout + done.stderr
    finally:
        await ProviderCredential.delete().where(ProviderCredential.user == person.user_id)
