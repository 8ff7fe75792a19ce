"""Reading the environment into `Settings`: parsing, validation, one clear line per mistake."""

from __future__ import annotations

import os
from pathlib import Path

from backend.settings import ROOT, Settings, SettingsError


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def load_settings() -> Settings:
    """Read and validate the environment. Raises SettingsError with one clear line."""
    env = _env("OO_ENV", "development").lower()
    if env not in {"development", "production"}:
        raise SettingsError(f"OO_ENV must be development or production, got {env!r}")
    database_url = _env("DATABASE_URL")
    if database_url and not database_url.startswith(("postgres://", "postgresql://", "sqlite:")):
        raise SettingsError("DATABASE_URL must start with postgres:// (or be unset for SQLite)")
    redis_url = _env("REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("REDIS_URL must start with redis:// (or be unset for embedded Redis)")
    keys = tuple(k.strip() for k in _env("OO_SECRET_KEYS").split(",") if k.strip())
    production = env == "production"
    if production:
        missing = [
            name
            for name, value in (
                ("DATABASE_URL", database_url),
                ("REDIS_URL", redis_url),
                ("OO_SECRET_KEYS", keys),
            )
            if not value
        ]
        if missing:
            raise SettingsError(f"OO_ENV=production needs {', '.join(missing)} to be set")
        if any(len(k) < 32 for k in keys):
            raise SettingsError("each key in OO_SECRET_KEYS must be at least 32 characters")
    if not keys:
        # Development only: a fixed key keeps sessions valid across restarts of `oo up`.
        keys = ("development-only-secret-key-do-not-use-in-production",)
    demo = _env_bool("OO_DEMO", not production)
    if production and demo:
        raise SettingsError("OO_DEMO cannot be enabled when OO_ENV=production")
    var_dir = Path(_env("OO_VAR_DIR") or ROOT / "var")
    if _env("OO_LLM_JSON_MODE", "object").lower() not in {"object", "schema", "off"}:
        raise SettingsError("OO_LLM_JSON_MODE must be object, schema or off")
    if not 1 <= _env_int("OO_AGENTS_INTERVAL_MIN", 15) <= 60:
        raise SettingsError("OO_AGENTS_INTERVAL_MIN must be between 1 and 60 (minutes)")
    host = _env("OO_HOST", "127.0.0.1")
    port = _env_int("OO_PORT", 8000)
    # Printed links must reach this server when OO_BASE_URL is unset (e.g. `OO_PORT=9000 oo up`).
    local_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 - a comparison
    apple_key = _env("APPLE_PRIVATE_KEY").replace("\\n", "\n")
    key_file = _env("APPLE_PRIVATE_KEY_FILE")
    if not apple_key and key_file:
        try:
            apple_key = Path(key_file).read_text()
        except OSError as err:
            raise SettingsError(f"APPLE_PRIVATE_KEY_FILE cannot be read: {err.strerror}") from None
    defaults = Settings()
    return Settings(
        env=env,
        var_dir=var_dir,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=_env("OO_REDIS_PREFIX", "oo:"),
        secret_keys=keys,
        base_url=_env("OO_BASE_URL", f"http://{local_host}:{port}").rstrip("/"),
        host=host,
        port=port,
        demo_enabled=demo,
        session_ttl_s=_env_int("OO_SESSION_TTL", 30 * 24 * 3600),
        sign_in_link_ttl_s=_env_int("OO_SIGN_IN_LINK_TTL", 15 * 60),
        task_cache_ttl_s=_env_int("OO_TASK_CACHE_TTL", 30),
        tip_valid_s=_env_int("OO_TIP_VALID", 6 * 3600),
        snooze_s=_env_int("OO_SNOOZE", 3 * 3600),
        dismiss_s=_env_int("OO_DISMISS", 24 * 3600),
        event_stream_maxlen=_env_int("OO_EVENT_STREAM_MAXLEN", 10_000),
        graphql_max_depth=_env_int("OO_GRAPHQL_MAX_DEPTH", 10),
        graphql_max_aliases=_env_int("OO_GRAPHQL_MAX_ALIASES", 15),
        graphql_max_tokens=_env_int("OO_GRAPHQL_MAX_TOKENS", 2000),
        agents_interval_min=_env_int("OO_AGENTS_INTERVAL_MIN", 15),
        agents_active_days=_env_int("OO_AGENTS_ACTIVE_DAYS", 30),
        worker_max_jobs=_env_int("OO_WORKER_MAX_JOBS", 200),
        llm_embedder=_env("OO_LLM_EMBEDDER"),
        llm_embedder_api_base=_env("OO_LLM_EMBEDDER_API_BASE"),
        llm_config=_env("OO_LLM_CONFIG"),
        llm_tip_model=_env("OO_LLM_TIP_MODEL"),
        llm_tip_api_base=_env("OO_LLM_TIP_API_BASE"),
        llm_tip_api_key=_env("OO_LLM_TIP_API_KEY"),
        llm_tip_fallback_model=_env("OO_LLM_TIP_FALLBACK_MODEL"),
        llm_judge_model=_env("OO_LLM_JUDGE"),
        llm_json_mode=_env("OO_LLM_JSON_MODE", "object").lower(),
        llm_timeout_s=_env_int("OO_LLM_TIMEOUT", 60),
        llm_retries=_env_int("OO_LLM_RETRIES", 1),
        llm_candidates=max(1, min(_env_int("OO_LLM_CANDIDATES", 4), 8)),
        llm_candidate_ttl_s=_env_int("OO_LLM_CANDIDATE_TTL", 3 * 3600),
        llm_context_tokens=_env_int("OO_LLM_CONTEXT_TOKENS", 900),
        llm_background=_env_bool("OO_LLM_BACKGROUND", True),
        llm_refresh_min=max(1, min(_env_int("OO_LLM_REFRESH_MIN", 30), 60)),
        llm_concurrency=max(1, _env_int("OO_LLM_CONCURRENCY", 2)),
        admin_seed_email=_env("ADMIN_SEED_EMAIL").lower(),
        admin_token=_env("ADMIN_TOKEN"),
        google_client_id=_env("GOOGLE_CLIENT_ID"),
        google_client_secret=_env("GOOGLE_CLIENT_SECRET"),
        google_discovery_url=_env("GOOGLE_DISCOVERY_URL", defaults.google_discovery_url),
        apple_client_id=_env("APPLE_CLIENT_ID"),
        apple_team_id=_env("APPLE_TEAM_ID"),
        apple_key_id=_env("APPLE_KEY_ID"),
        apple_private_key=apple_key,
        apple_issuer=_env("APPLE_ISSUER", defaults.apple_issuer),
        apple_authorize_url=_env("APPLE_AUTHORIZE_URL", defaults.apple_authorize_url),
        apple_token_url=_env("APPLE_TOKEN_URL", defaults.apple_token_url),
        apple_jwks_url=_env("APPLE_JWKS_URL", defaults.apple_jwks_url),
        apple_revoke_url=_env("APPLE_REVOKE_URL", defaults.apple_revoke_url),
        todoist_client_id=_env("TODOIST_CLIENT_ID"),
        todoist_client_secret=_env("TODOIST_CLIENT_SECRET"),
        todoist_authorize_url=_env("TODOIST_AUTHORIZE_URL", defaults.todoist_authorize_url),
        todoist_token_url=_env("TODOIST_TOKEN_URL", defaults.todoist_token_url),
        todoist_api_url=_env("TODOIST_API_URL", defaults.todoist_api_url).rstrip("/"),
        todoist_revoke_url=_env("TODOIST_REVOKE_URL", defaults.todoist_revoke_url),
        google_calendar_api_url=_env(
            "GOOGLE_CALENDAR_API_URL", defaults.google_calendar_api_url
        ).rstrip("/"),
        sync_interval_s=_env_int("OO_SYNC_INTERVAL", 300),
        sync_max_failures=_env_int("OO_SYNC_MAX_FAILURES", 5),
        google_revoke_url=_env("GOOGLE_REVOKE_URL", defaults.google_revoke_url),
        tip_log_retention_days=_env_int("OO_TIP_LOG_RETENTION_DAYS", 30),
        sim_retention_days=max(1, _env_int("OO_SIM_RETENTION_DAYS", 90)),
    )
