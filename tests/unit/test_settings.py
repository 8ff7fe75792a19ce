"""Settings from the environment: clear refusals, safe defaults (load_settings, never the cache)."""

from __future__ import annotations

import pytest

from backend.settings import ROOT, SettingsError
from backend.settings_env import load_settings

KEY = "k" * 32
ALL = ("OO_ENV", "DATABASE_URL", "REDIS_URL", "OO_SECRET_KEYS", "OO_DEMO", "OO_PORT", "OO_VAR_DIR")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean slate of the variables under test (monkeypatch restores them afterwards)."""
    for name in ALL:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def production(env: pytest.MonkeyPatch, **values: str) -> None:
    env.setenv("OO_ENV", "production")
    for name, value in values.items():
        env.setenv(name, value)


def test_production_names_everything_missing(env: pytest.MonkeyPatch) -> None:
    production(env)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert "DATABASE_URL" in message
    assert "REDIS_URL" in message
    assert "OO_SECRET_KEYS" in message
    assert "\n" not in message


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "OO_SECRET_KEYS"])
def test_production_names_the_one_missing(env: pytest.MonkeyPatch, missing: str) -> None:
    values = {
        "DATABASE_URL": "postgres://u@db:5432/oo",
        "REDIS_URL": "redis://cache:6379/0",
        "OO_SECRET_KEYS": KEY,
    }
    del values[missing]
    production(env, **values)
    with pytest.raises(SettingsError, match=missing) as err:
        load_settings()
    assert all(name not in str(err.value) for name in values)


def test_production_complete(env: pytest.MonkeyPatch) -> None:
    production(
        env,
        DATABASE_URL="postgres://u@db:5432/oo",
        REDIS_URL="redis://cache:6379/0",
        OO_SECRET_KEYS=f"{KEY}new, {KEY}old ,",
    )
    s = load_settings()
    assert s.is_production
    assert s.demo_enabled is False
    assert s.uses_postgres
    assert s.secret_keys == (f"{KEY}new", f"{KEY}old")


def test_production_refuses_short_keys(env: pytest.MonkeyPatch) -> None:
    production(
        env, DATABASE_URL="postgres://u@db/oo", REDIS_URL="redis://c:6379/0", OO_SECRET_KEYS="short"
    )
    with pytest.raises(SettingsError, match="32 characters"):
        load_settings()


@pytest.mark.parametrize("demo", ["true", "1", "yes", "on"])
def test_production_refuses_the_demo(env: pytest.MonkeyPatch, demo: str) -> None:
    production(
        env,
        DATABASE_URL="postgres://u@db/oo",
        REDIS_URL="redis://c:6379/0",
        OO_SECRET_KEYS=KEY,
        OO_DEMO=demo,
    )
    with pytest.raises(SettingsError, match="OO_DEMO"):
        load_settings()


@pytest.mark.parametrize("port", ["eighty", "80.5", "8000x"])
def test_bad_port(env: pytest.MonkeyPatch, port: str) -> None:
    env.setenv("OO_PORT", port)
    with pytest.raises(SettingsError, match="OO_PORT") as err:
        load_settings()
    assert repr(port) in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("OO_ENV", "staging", "OO_ENV"),
        ("DATABASE_URL", "mysql://u@db/oo", "DATABASE_URL"),
        ("REDIS_URL", "memcached://c:11211", "REDIS_URL"),
        ("OO_DEMO", "maybe", "OO_DEMO"),
    ],
)
def test_malformed_values(env: pytest.MonkeyPatch, name: str, value: str, needle: str) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=needle):
        load_settings()


def test_development_defaults(env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.env == "development"
    assert s.demo_enabled is True
    assert s.database_url == ""
    assert s.redis_url == ""
    assert s.port == 8000
    assert s.var_dir == ROOT / "var"
    assert s.sqlite_path == ROOT / "var" / "oo.sqlite3"
    assert s.redis_socket == ROOT / "var" / "redis.sock"
    assert len(s.secret_keys) == 1
    assert not s.uses_postgres


def test_development_reads_overrides(env: pytest.MonkeyPatch, tmp_path: object) -> None:
    env.setenv("OO_PORT", " 8123 ")
    env.setenv("OO_VAR_DIR", str(tmp_path))
    env.setenv("OO_DEMO", "off")
    env.setenv("OO_ENV", "Development")
    s = load_settings()
    assert (s.port, str(s.var_dir), s.demo_enabled, s.env) == (
        8123,
        str(tmp_path),
        False,
        "development",
    )


def test_the_cached_settings_are_untouched(env: pytest.MonkeyPatch) -> None:
    from backend.settings import get_settings

    before = get_settings()
    production(env)
    with pytest.raises(SettingsError):
        load_settings()
    assert get_settings() is before
