"""Settings from the environment: clear refusals, safe defaults (load_settings, never the cache)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from backend.settings import ROOT, Settings, SettingsError, load_settings

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


def test_every_setting_is_declared_once_with_its_variable_and_doc() -> None:
    variables = []
    for f in dataclasses.fields(Settings):
        assert f.metadata.get("doc"), f"{f.name} has no doc"
        if f.name == "extra":  # the one field not read from the environment
            continue
        assert f.metadata.get("env"), f"{f.name} has no variable"
        assert callable(f.metadata.get("parse")), f"{f.name} has no parser"
        variables.append(f.metadata["env"])
    assert len(variables) == len(set(variables)), "a variable names two settings"


def test_unset_means_the_declared_defaults() -> None:
    s = load_settings({})
    for f in dataclasses.fields(Settings):
        if f.name not in {"extra", "secret_keys"}:  # development falls back to a fixed key
            assert getattr(s, f.name) == getattr(Settings(), f.name), f.name


def test_flat_construction_and_replace() -> None:
    s = dataclasses.replace(Settings(port=9000), redis_url="redis://c:6379/0", tip_valid_s=5)
    assert (s.port, s.redis_url, s.tip_valid_s, s.sqlite_path) == (
        9000,
        "redis://c:6379/0",
        5,
        ROOT / "var" / "oo.sqlite3",
    )


def test_root_is_the_repository() -> None:
    assert (ROOT / "backend" / "settings" / "__init__.py").is_file()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"OO_HOST": "0.0.0.0", "OO_PORT": "9000"}, "http://127.0.0.1:9000"),  # noqa: S104
        ({"OO_HOST": "10.0.0.5"}, "http://10.0.0.5:8000"),
        ({"OO_BASE_URL": " https://oo.example/ "}, "https://oo.example"),
        ({"OO_BASE_URL": ""}, ""),
    ],
)
def test_base_url(environ: dict[str, str], expected: str) -> None:
    assert load_settings(environ).base_url == expected


def test_parsing_and_clamping() -> None:
    s = load_settings(
        {
            "OO_LLM_CANDIDATES": "50",
            "OO_LLM_REFRESH_MIN": "0",
            "OO_LLM_CONCURRENCY": "-3",
            "OO_SIM_RETENTION_DAYS": "0",
            "OO_LLM_JSON_MODE": "Schema",
            "ADMIN_SEED_EMAIL": " Ada@Example.org ",
            "TODOIST_API_URL": "https://todo.test/api/",
            "APPLE_PRIVATE_KEY": "-----BEGIN-----\\nabc",
            "OO_TIP_VALID": " ",  # blank: the default
            "OO_REDIS_PREFIX": "",  # blank text: empty
        }
    )
    assert (s.llm_candidates, s.llm_refresh_min, s.llm_concurrency, s.sim_retention_days) == (
        8,
        1,
        1,
        1,
    )
    assert (s.llm_json_mode, s.admin_seed_email, s.todoist_api_url) == (
        "schema",
        "ada@example.org",
        "https://todo.test/api",
    )
    assert s.apple_private_key == "-----BEGIN-----\nabc"
    assert (s.tip_valid_s, s.redis_prefix) == (6 * 3600, "")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OO_ENV": "staging"}, "OO_ENV must be development or production, got 'staging'"),
        ({"OO_LLM_JSON_MODE": "yaml"}, "OO_LLM_JSON_MODE must be object, schema or off"),
        ({"OO_AGENTS_INTERVAL_MIN": "90"}, "OO_AGENTS_INTERVAL_MIN must be between 1 and 60"),
        ({"OO_PORT": "x"}, "OO_PORT must be a whole number, got 'x'"),
        ({"OO_DEMO": "Maybe"}, "OO_DEMO must be true or false, got 'maybe'"),
        ({"APPLE_PRIVATE_KEY_FILE": "/nonexistent/k.p8"}, "APPLE_PRIVATE_KEY_FILE cannot be read"),
    ],
)
def test_refusals_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ)
    assert str(err.value).startswith(message)


def test_apple_key_file(tmp_path: Path) -> None:
    key = tmp_path / "k.p8"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n")
    s = load_settings({"APPLE_PRIVATE_KEY_FILE": str(key)})
    assert s.apple_private_key == key.read_text()
    assert (
        load_settings(
            {"APPLE_PRIVATE_KEY": "x", "APPLE_PRIVATE_KEY_FILE": str(key)}
        ).apple_private_key
        == "x"
    )
