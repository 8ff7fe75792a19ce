"""Settings from the environment: one dataclass, one docstring per field, one cached getter.

Reading and validating the environment lives in settings_env.py (`load_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is missing or malformed; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    """OO_ENV: `development` (default) or `production`. Production forbids the demo sign-in."""

    var_dir: Path = ROOT / "var"
    """OO_VAR_DIR: where the embedded default keeps its SQLite file and Redis socket."""

    database_url: str = ""
    """DATABASE_URL: `postgres://user@host:5432/db`; empty means the SQLite file under var/."""

    redis_url: str = ""
    """REDIS_URL: `redis://host:6379/0`; empty means the embedded Redis on a socket under var/."""

    redis_prefix: str = "oo:"
    """OO_REDIS_PREFIX: prefix of every Redis key and the arq queue, so deployments can share."""

    secret_keys: tuple[str, ...] = ()
    """OO_SECRET_KEYS: comma-separated secrets, newest first. Required in production."""

    base_url: str = "http://127.0.0.1:8000"
    """OO_BASE_URL: the public URL people reach; used in printed and e-mailed links.

    Unset: http://OO_HOST:OO_PORT (127.0.0.1 when binding every address)."""

    host: str = "127.0.0.1"
    """OO_HOST: address `oo serve` and `oo up` bind to."""

    port: int = 8000
    """OO_PORT: port `oo serve` and `oo up` listen on."""

    demo_enabled: bool = True
    """OO_DEMO: allow the demo user and its sign-in link. Always off when OO_ENV=production."""

    session_ttl_s: int = 30 * 24 * 3600
    """OO_SESSION_TTL: seconds a browser session lives without use."""

    sign_in_link_ttl_s: int = 15 * 60
    """OO_SIGN_IN_LINK_TTL: seconds a one-time sign-in link stays valid."""

    task_cache_ttl_s: int = 30
    """OO_TASK_CACHE_TTL: seconds the per-user task cache in Redis lives."""

    tip_valid_s: int = 6 * 3600
    """OO_TIP_VALID: seconds a served tip with no reaction is shown again on reload."""

    snooze_s: int = 3 * 3600
    """OO_SNOOZE: seconds a snoozed item stays hidden."""

    dismiss_s: int = 24 * 3600
    """OO_DISMISS: seconds a dismissed item stays hidden."""

    event_stream_maxlen: int = 10_000
    """OO_EVENT_STREAM_MAXLEN: approximate cap of the event stream (the replayable ring)."""

    graphql_max_depth: int = 10
    """OO_GRAPHQL_MAX_DEPTH: deepest query accepted."""

    graphql_max_aliases: int = 15
    """OO_GRAPHQL_MAX_ALIASES: most aliases in one document."""

    graphql_max_tokens: int = 2000
    """OO_GRAPHQL_MAX_TOKENS: most tokens in one document."""

    admin_seed_email: str = ""
    """ADMIN_SEED_EMAIL: the person who becomes admin on their first sign-in."""

    admin_token: str = ""
    """ADMIN_TOKEN: `POST /auth/token` with it signs in as the seeded admin (automation, tests)."""

    google_client_id: str = ""
    """GOOGLE_CLIENT_ID: OAuth client id for Sign in with Google (empty: the button is hidden)."""

    google_client_secret: str = ""
    """GOOGLE_CLIENT_SECRET: its secret."""

    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    """GOOGLE_DISCOVERY_URL: OpenID discovery document (overridden by tests' stand-in)."""

    apple_client_id: str = ""
    """APPLE_CLIENT_ID: the Services ID for Sign in with Apple (empty: the button is hidden)."""

    apple_team_id: str = ""
    """APPLE_TEAM_ID: the developer team id (issuer of the client-secret JWT)."""

    apple_key_id: str = ""
    """APPLE_KEY_ID: the id of the .p8 key (the `kid` of the client-secret JWT)."""

    apple_private_key: str = ""
    """APPLE_PRIVATE_KEY: the .p8 key's PEM text (or APPLE_PRIVATE_KEY_FILE: a path to it)."""

    apple_issuer: str = "https://appleid.apple.com"
    """APPLE_ISSUER: the expected `iss` of Apple id_tokens."""

    apple_authorize_url: str = "https://appleid.apple.com/auth/authorize"
    """APPLE_AUTHORIZE_URL: Apple's authorization endpoint."""

    apple_token_url: str = "https://appleid.apple.com/auth/token"  # noqa: S105 - a URL
    """APPLE_TOKEN_URL: Apple's token endpoint."""

    apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    """APPLE_JWKS_URL: Apple's signing keys."""

    apple_revoke_url: str = "https://appleid.apple.com/auth/revoke"
    """APPLE_REVOKE_URL: Apple's token revocation endpoint."""

    google_revoke_url: str = ""
    """GOOGLE_REVOKE_URL: Google's token revocation endpoint; empty: the discovery document's
    `revocation_endpoint` (so one GOOGLE_DISCOVERY_URL points every Google call elsewhere)."""

    tip_log_retention_days: int = 30
    """OO_TIP_LOG_RETENTION_DAYS: days the decision log (served tips and their feedback) is kept."""

    sim_retention_days: int = 90
    """OO_SIM_RETENTION_DAYS: days a finished or failed simulation run (and its events) is kept."""

    agents_interval_min: int = 15
    """OO_AGENTS_INTERVAL_MIN: minutes between agent fan-outs (and stale-feature refreshes);
    1..60, run at the minutes of the hour divisible by it. Also the dedupe slot of agent jobs."""

    agents_active_days: int = 30
    """OO_AGENTS_ACTIVE_DAYS: a person is "active" (agents run for them) when they signed up,
    were served a tip or completed a task within this many days."""

    worker_max_jobs: int = 200
    """OO_WORKER_MAX_JOBS: jobs one arq worker runs at once. Agent jobs batch their database
    reads across concurrent jobs, so a high value is what makes the fan-out fast."""

    llm_embedder: str = ""
    """OO_LLM_EMBEDDER: the litellm model behind the `embedder` alias (e.g.
    `ollama/nomic-embed-text`). Empty: focus-area groups task texts lexically instead."""

    llm_embedder_api_base: str = ""
    """OO_LLM_EMBEDDER_API_BASE: the embedder's server URL (e.g. http://127.0.0.1:11434)."""

    llm_config: str = ""
    """OO_LLM_CONFIG: path of the model gateway's YAML (litellm's `model_list` and
    `router_settings`, with the aliases tip-generator, embedder, judge). Optional; the
    OO_LLM_* model settings below override the aliases they name."""

    llm_tip_model: str = ""
    """OO_LLM_TIP_MODEL: the litellm model behind `tip-generator` (e.g. `ollama/qwen2.5:3b`,
    `openai/smollm2` with an api base). Empty and no YAML: the template writer (no model)."""

    llm_tip_api_base: str = ""
    """OO_LLM_TIP_API_BASE: the tip model's server (e.g. http://127.0.0.1:8088/v1)."""

    llm_tip_api_key: str = ""
    """OO_LLM_TIP_API_KEY: the tip model's key (local servers need none)."""

    llm_tip_fallback_model: str = ""
    """OO_LLM_TIP_FALLBACK_MODEL: a litellm model tried when the tip model fails (same api
    base unless the YAML says otherwise)."""

    llm_judge_model: str = ""
    """OO_LLM_JUDGE: the litellm model behind `judge` (evaluation only; cloud is opt-in)."""

    llm_json_mode: str = "object"
    """OO_LLM_JSON_MODE: how the tip model is held to JSON: `object` (OpenAI-style JSON mode,
    widely supported), `schema` (JSON mode with the answer's schema: grammar-constrained
    decoding on llama.cpp servers such as `oo llm-serve`), or `off` (the gate alone)."""

    llm_timeout_s: int = 60
    """OO_LLM_TIMEOUT: seconds one model call may take before it counts as an error."""

    llm_retries: int = 1
    """OO_LLM_RETRIES: transport-level retries of one call (the router's; clarification
    retries of invalid answers are separate and at most 2)."""

    llm_candidates: int = 4
    """OO_LLM_CANDIDATES: tip candidates asked for (and kept) per person and generation."""

    llm_candidate_ttl_s: int = 3 * 3600
    """OO_LLM_CANDIDATE_TTL: seconds a generated candidate may be served (never past the
    expiry of the agent notes it was written from)."""

    llm_context_tokens: int = 900
    """OO_LLM_CONTEXT_TOKENS: budget of the person's context in the prompt (estimated)."""

    llm_background: bool = True
    """OO_LLM_BACKGROUND: write tip candidates in the background (when an agent's note changes
    and on the refresh schedule). Off: only when asked (admin, `oo llm-generate`); the test
    harness turns it off so a cron tick never changes which tip another domain's test sees."""

    llm_refresh_min: int = 30
    """OO_LLM_REFRESH_MIN: minutes between scheduled candidate refreshes (a person whose
    context did not change and whose candidates are fresh is skipped)."""

    llm_concurrency: int = 2
    """OO_LLM_CONCURRENCY: model calls one worker process makes at once (local servers
    answer one request at a time; queued jobs wait instead of timing out)."""

    todoist_client_id: str = ""
    """TODOIST_CLIENT_ID: OAuth app id for connecting Todoist (empty: Connect says what to set)."""

    todoist_client_secret: str = ""
    """TODOIST_CLIENT_SECRET: its secret; also the key of Todoist's webhook signatures."""

    todoist_authorize_url: str = "https://todoist.com/oauth/authorize"
    """TODOIST_AUTHORIZE_URL: Todoist's authorization endpoint."""

    todoist_token_url: str = "https://todoist.com/oauth/access_token"  # noqa: S105 - a URL
    """TODOIST_TOKEN_URL: Todoist's token endpoint (exchange and refresh)."""

    todoist_api_url: str = "https://api.todoist.com/api/v1"
    """TODOIST_API_URL: base of Todoist's unified API v1."""

    todoist_revoke_url: str = "https://api.todoist.com/api/v1/revoke"
    """TODOIST_REVOKE_URL: Todoist's token revocation endpoint (RFC 7009)."""

    google_calendar_api_url: str = "https://www.googleapis.com/calendar/v3"
    """GOOGLE_CALENDAR_API_URL: base of the Calendar API (read-only use)."""

    sync_interval_s: int = 300
    """OO_SYNC_INTERVAL: seconds between scheduled syncs of every connected source."""

    sync_max_failures: int = 5
    """OO_SYNC_MAX_FAILURES: failed syncs in a row before a source is marked "needs attention"."""

    extra: dict[str, str] = field(default_factory=dict)
    """Anything else read lazily by features that need it."""

    @property
    def is_production(self) -> bool:
        """True when OO_ENV=production."""
        return self.env == "production"

    @property
    def sqlite_path(self) -> Path:
        """The embedded database file."""
        return self.var_dir / "oo.sqlite3"

    @property
    def redis_socket(self) -> Path:
        """The embedded Redis unix socket."""
        return self.var_dir / "redis.sock"

    @property
    def uses_postgres(self) -> bool:
        """True when DATABASE_URL points at PostgreSQL."""
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag when the public URL is https."""
        return self.base_url.startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    from backend.settings_env import load_settings  # reads this module: imported late

    return load_settings()
