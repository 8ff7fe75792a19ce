"""The vault's cryptography: round trip, binding, wrong keys, tampering, rotation, redaction."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from backend.identity.vault import Credential, Secret, Vault, VaultError

OLD = "old-key-0123456789abcdef0123456789abcdef"
NEW = "new-key-fedcba9876543210fedcba9876543210"
CTX = "provider_credential:7b0c3f8e-1111-4222-8333-944445555666:access_token_enc"


def test_round_trip() -> None:
    vault = Vault([NEW])
    sealed = vault.encrypt("ya29.secret-access", CTX)
    assert "ya29" not in sealed
    assert sealed.startswith(f"v1.{vault.current_kid}.")
    assert vault.decrypt(sealed, CTX) == "ya29.secret-access"


def test_each_seal_is_fresh() -> None:
    vault = Vault([NEW])
    assert vault.encrypt("same", CTX) != vault.encrypt("same", CTX)


def test_wrong_key_fails() -> None:
    sealed = Vault([OLD]).encrypt("ya29.plain-value", CTX)
    with pytest.raises(VaultError) as err:
        Vault([NEW]).decrypt(sealed, CTX)
    assert "plain-value" not in str(err.value)


def test_bound_to_its_row_and_column() -> None:
    vault = Vault([NEW])
    sealed = vault.encrypt("secret", CTX)
    with pytest.raises(VaultError):
        vault.decrypt(sealed, CTX.replace("access_token_enc", "refresh_token_enc"))


@pytest.mark.parametrize("mangle", ["flip", "truncate", "garbage", "version"])
def test_tampered_or_malformed_fails(mangle: str) -> None:
    vault = Vault([NEW])
    sealed = vault.encrypt("secret", CTX)
    if mangle == "flip":
        body = sealed[-5]
        sealed = sealed[:-5] + ("A" if body != "A" else "B") + sealed[-4:]
    elif mangle == "truncate":
        sealed = sealed[:20]
    elif mangle == "garbage":
        sealed = "v1.abcd.!!!not-base64!!!"
    else:
        sealed = "v9" + sealed[2:]
    with pytest.raises(VaultError):
        vault.decrypt(sealed, CTX)


def test_rotation_keeps_old_secrets_readable() -> None:
    old_sealed = Vault([OLD]).encrypt("refresh-1", CTX)
    rotated = Vault([NEW, OLD])
    # Old values still open, new values go under the newest key.
    assert rotated.decrypt(old_sealed, CTX) == "refresh-1"
    assert rotated.key_id(old_sealed) != rotated.current_kid
    resealed = rotated.encrypt(rotated.decrypt(old_sealed, CTX), CTX)
    assert rotated.key_id(resealed) == rotated.current_kid
    # Once re-sealed, the old key can go.
    assert Vault([NEW]).decrypt(resealed, CTX) == "refresh-1"
    with pytest.raises(VaultError):
        Vault([NEW]).decrypt(old_sealed, CTX)


def test_no_keys_is_an_error() -> None:
    with pytest.raises(VaultError):
        Vault([])


def test_secrets_never_print_or_pickle() -> None:
    secret = Secret("ya29.plaintext")
    assert "ya29" not in repr(secret)
    assert "ya29" not in str(secret)
    assert "ya29" not in f"{secret}"
    assert secret.reveal() == "ya29.plaintext"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    now = datetime.now(UTC)
    credential = Credential(
        id="c",
        user_id="u",
        provider="google",
        subject="s",
        access_token=secret,
        refresh_token=Secret("1//refresh-plaintext"),
        expires_at=None,
        scopes=("calendar",),
        created_at=now,
        updated_at=now,
    )
    text = repr(credential) + str(credential)
    assert "ya29" not in text
    assert "refresh-plaintext" not in text
