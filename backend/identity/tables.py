"""Identity tables: people, personal API tokens, one-time sign-in links."""

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="app_user"):
    """A person. Soft-deleted accounts keep the row with personal fields cleared."""

    id = UUID(primary_key=True)
    email = Varchar(length=320, unique=True, null=True, default=None)
    name = Varchar(length=200, default="")
    role = Varchar(length=20, default="user")
    timezone = Varchar(length=64, default="UTC")
    picture = Varchar(length=1000, default="")
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    """A personal API token; only its SHA-256 is kept."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class SignInLink(Table, tablename="sign_in_link"):
    """A one-time sign-in link (demo and automation); only its SHA-256 is kept."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class UserIdentity(Table, tablename="user_identity"):
    """A provider account (Google, Apple) linked to a person; `subject` is the provider's `sub`."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    provider = Varchar(length=20)
    subject = Varchar(length=255, index=True)
    email = Varchar(length=320, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    last_sign_in_at = Timestamptz(null=True, default=None)


class ProviderCredential(Table, tablename="provider_credential"):
    """A provider account's OAuth tokens, sealed by backend/identity/vault.py (never plaintext)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    provider = Varchar(length=50)
    subject = Varchar(length=255)
    access_token_enc = Text(secret=True)
    refresh_token_enc = Text(null=True, default=None, secret=True)
    expires_at = Timestamptz(null=True, default=None)
    scopes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
