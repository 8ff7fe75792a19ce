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
NEW = "rotation-new-key-fedcba9876543210fedcba9876"
ROOT = Path(__file__).resolve().parents[3]


async def _reseal_to_run_key() -> None:
    await rotate_keys(Vault([get_settings().secret_keys[0], NEW, OLD]))


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


async def test_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    person = await make_person(tasks=False)
    run_key = get_settings().secret_keys[0]
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([OLD]))
    await store_credential(person.user_id, "google", "s", "acc", "ref", None)
    try:
        # Deploy step 1: the new key in front, the old one kept — old values still open.
        monkeypatch.setattr(vault, "get_vault", lambda: Vault([NEW, OLD, run_key]))
        credential = await get_credential(person.user_id, "google")
        assert credential is not None
        assert credential.access_token.reveal() == "acc"

        report = await rotate_keys(Vault([NEW, OLD, run_key]))
        assert report.resealed >= 2  # this person's two, plus any other row of the suite
        assert report.total >= report.resealed
        assert (await rotate_keys(Vault([NEW, OLD, run_key]))).resealed == 0  # idempotent

        # Step 2: the old key removed — everything still opens.
        monkeypatch.setattr(vault, "get_vault", lambda: Vault([NEW]))
        credential = await get_credential(person.user_id, "google")
        assert credential is not None
        assert credential.refresh_token is not None
        assert credential.refresh_token.reveal() == "ref"
    finally:
        await rotate_keys(Vault([run_key, NEW, OLD]))  # leave the suite's rows readable


async def test_oo_rotate_keys_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    person = await make_person(tasks=False)
    monkeypatch.setattr(vault, "get_vault", lambda: Vault([OLD]))
    await store_credential(person.user_id, "google", "cli", "cli-acc", "cli-ref", None)
    run_key = get_settings().secret_keys[0]
    env = {**os.environ, "OO_SECRET_KEYS": f"{NEW},{OLD},{run_key}"}
    oo = str(Path(sys.executable).parent / "oo")
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [oo, "rotate-keys"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("re-encrypted ")
        assert int(done.stdout.split()[1]) >= 2
        assert "cli-acc" not in done.stdout + done.stderr
        monkeypatch.setattr(vault, "get_vault", lambda: Vault([NEW]))
        credential = await get_credential(person.user_id, "google")
        assert credential is not None
        assert credential.access_token.reveal() == "cli-acc"
    finally:
        await _reseal_to_run_key()
