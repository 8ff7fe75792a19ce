"""Settings of oO itself, one frozen dataclass per concern: deployment, storage, security,
recommender, privacy (the outside services are in services.py).

Each field names its variable, default, parser and doc (`setting(env, default, doc, parse)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.settings.fields import (
    ROOT,
    base_url,
    between,
    clamped,
    lowered,
    one_of,
    setting,
    url_scheme,
)


def _local_url(values: Mapping[str, Any]) -> str:
    # Printed links must reach this server when OO_BASE_URL is unset (e.g. `OO_PORT=9000 oo up`).
    host = values["host"]
    local_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 - a comparison
    return f"http://{local_host}:{values['port']}"


@dataclass(frozen=True, kw_only=True)
class CoreSettings:
    """The deployment: its kind, where it listens, the URL people reach, the demo."""

    env: str = setting(
        "OO_ENV",
        "development",
        "`development` (default) or `production`. Production forbids the demo sign-in.",
        one_of("development", "production", echo=True),
    )
    host: str = setting("OO_HOST", "127.0.0.1", "Address `oo serve` and `oo up` bind to.")
    port: int = setting("OO_PORT", 8000, "Port `oo serve` and `oo up` listen on.")
    base_url: str = setting(
        "OO_BASE_URL",
        "http://127.0.0.1:8000",
        "The public URL people reach; used in printed and e-mailed links. "
        "Unset: http://OO_HOST:OO_PORT (127.0.0.1 when binding every address).",
        base_url,
        derive=_local_url,
    )
    shutdown_grace_s: int = setting(
        "OO_SHUTDOWN_GRACE",
        20,
        "Seconds a stopping process (SIGTERM) gives in-flight requests and jobs to finish "
        "before it closes what is left and exits.",
    )
    demo_enabled: bool = setting(
        "OO_DEMO",
        True,
        "Allow the demo user and its sign-in link. Always off when OO_ENV=production.",
        derive=lambda values: values["env"] != "production",
    )

    @property
    def is_production(self) -> bool:
        """True when OO_ENV=production."""
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag when the public URL is https."""
        return self.base_url.startswith("https://")


@dataclass(frozen=True, kw_only=True)
class StorageSettings:
    """Where data lives: the database, Redis, and the directory of the embedded defaults."""

    var_dir: Path = setting(  # noqa: RUF009 - `setting` makes a field, like `field`
        "OO_VAR_DIR",
        ROOT / "var",
        "Where the embedded default keeps its SQLite file and Redis socket.",
    )
    database_url: str = setting(
        "DATABASE_URL",
        "",
        "`postgres://user@host:5432/db`; empty means the SQLite file under var/.",
        url_scheme(
            "postgres://", "postgresql://", "sqlite:", hint="postgres:// (or be unset for SQLite)"
        ),
    )
    redis_url: str = setting(
        "REDIS_URL",
        "",
        "`redis://host:6379/0`; empty means the embedded Redis on a socket under var/.",
        url_scheme(
            "redis://", "rediss://", "unix://", hint="redis:// (or be unset for embedded Redis)"
        ),
    )
    db_pool_max: int = setting(
        "OO_DB_POOL_MAX",
        20,
        "PostgreSQL connections one process (web or worker) keeps at most. Every process "
        "counts against the server's max_connections: processes × this must stay below it.",
        between(1, 500, "connections"),
    )
    redis_prefix: str = setting(
        "OO_REDIS_PREFIX",
        "oo:",
        "Prefix of every Redis key and the arq queue, so deployments can share.",
    )
    task_cache_ttl_s: int = setting(
        "OO_TASK_CACHE_TTL", 30, "Seconds the per-user task cache in Redis lives."
    )
    event_stream_maxlen: int = setting(
        "OO_EVENT_STREAM_MAXLEN",
        10_000,
        "Approximate cap of the event stream (the replayable ring).",
    )

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


@dataclass(frozen=True, kw_only=True)
class SecuritySettings:
    """Secrets, sessions, the seeded admin and the limits on GraphQL documents."""

    secret_keys: tuple[str, ...] = setting(
        "OO_SECRET_KEYS",
        (),
        "Comma-separated secrets, newest first, each at least 32 characters. Required in "
        "production; development falls back to a fixed key.",
    )
    session_ttl_s: int = setting(
        "OO_SESSION_TTL", 30 * 24 * 3600, "Seconds a browser session lives without use."
    )
    sign_in_link_ttl_s: int = setting(
        "OO_SIGN_IN_LINK_TTL", 15 * 60, "Seconds a one-time sign-in link stays valid."
    )
    admin_seed_email: str = setting(
        "ADMIN_SEED_EMAIL", "", "The person who becomes admin on their first sign-in.", lowered
    )
    admin_token: str = setting(
        "ADMIN_TOKEN",
        "",
        "`POST /auth/token` with it signs in as the seeded admin (automation, tests).",
    )
    graphql_max_depth: int = setting("OO_GRAPHQL_MAX_DEPTH", 10, "Deepest query accepted.")
    graphql_max_aliases: int = setting("OO_GRAPHQL_MAX_ALIASES", 15, "Most aliases in a document.")
    graphql_max_tokens: int = setting("OO_GRAPHQL_MAX_TOKENS", 2000, "Most tokens in a document.")


@dataclass(frozen=True, kw_only=True)
class RecommenderSettings:
    """Serving tips, and the agents and workers behind them."""

    tip_valid_s: int = setting(
        "OO_TIP_VALID", 6 * 3600, "Seconds a served tip with no reaction is shown again on reload."
    )
    snooze_s: int = setting("OO_SNOOZE", 3 * 3600, "Seconds a snoozed item stays hidden.")
    dismiss_s: int = setting("OO_DISMISS", 24 * 3600, "Seconds a dismissed item stays hidden.")
    agents_interval_min: int = setting(
        "OO_AGENTS_INTERVAL_MIN",
        15,
        "Minutes between agent fan-outs (and stale-feature refreshes); 1..60, run at the "
        "minutes of the hour divisible by it. Also the dedupe slot of agent jobs.",
        between(1, 60, "minutes"),
    )
    agents_active_days: int = setting(
        "OO_AGENTS_ACTIVE_DAYS",
        30,
        'A person is "active" (agents run for them) when they signed up, were served a tip or '
        "completed a task within this many days.",
    )
    worker_max_jobs: int = setting(
        "OO_WORKER_MAX_JOBS",
        200,
        "Jobs one arq worker runs at once. Agent jobs batch their database reads across "
        "concurrent jobs, so a high value is what makes the fan-out fast.",
    )
    shadow_replay: bool = setting(
        "OO_SHADOW_REPLAY",
        True,
        "Let this deployment's workers replay the decision log for the shadow policies every "
        "5 s (ADR 0046). The test harness turns it off so a cron tick never replays beside "
        "another test; tests replay by hand.",
    )
    worker_gc: str = setting(
        "OO_WORKER_GC",
        "tuned",
        "The worker's garbage collector: tuned (startup heap frozen, young collections every "
        "20,000 allocations; ADR 0037), freeze (frozen only) or default (CPython's).",
        one_of("tuned", "freeze", "default"),
    )


@dataclass(frozen=True, kw_only=True)
class PrivacySettings:
    """How long records about people are kept."""

    tip_log_retention_days: int = setting(
        "OO_TIP_LOG_RETENTION_DAYS",
        30,
        "Days the decision log (served tips and their feedback) is kept.",
    )
    sim_retention_days: int = setting(
        "OO_SIM_RETENTION_DAYS",
        90,
        "Days a finished or failed simulation run (and its events) is kept; at least 1.",
        clamped(1),
    )


@dataclass(frozen=True, kw_only=True)
class AdminSettings:
    """The operators' console."""

    admin_rollups: bool = setting(
        "OO_ADMIN_ROLLUPS",
        True,
        "Keep the console's rollups current every minute (a worker job). The test harness turns "
        "it off so a cron tick never writes beside another test's data; tests refresh by hand.",
    )


DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
    "*.push.apple.com",
)


def _push_subject(values: Mapping[str, Any]) -> str:
    # A push service contacts the sender through `sub`: the public https URL when there is one.
    base = str(values.get("base_url") or "")  # unset: derived later, and http anyway
    return base if base.startswith("https://") else "mailto:push@localhost"


@dataclass(frozen=True, kw_only=True)
class PushSettings:
    """Web Push delivery (the notifier)."""

    push_subject: str = setting(
        "OO_PUSH_SUBJECT",
        "mailto:push@localhost",
        "VAPID `sub`: how a push service reaches the operator, `mailto:` or `https:`. Unset: "
        "OO_BASE_URL when it is https, else mailto:push@localhost.",
        url_scheme("mailto:", "https://", hint="mailto: or https://"),
        derive=_push_subject,
    )
    push_endpoint_hosts: tuple[str, ...] = setting(
        "OO_PUSH_ENDPOINT_HOSTS",
        DEFAULT_PUSH_HOSTS,
        "Comma-separated push service hosts a subscription endpoint may name in production "
        "(`*.` matches any subdomain). Outside production http(s) to loopback is also accepted.",
    )
    push_max_tries: int = setting(
        "OO_PUSH_MAX_TRIES",
        4,
        "Attempts per push at most (429 and 5xx are retried; 413 once, shortened). 1..5.",
        between(1, 5, "attempts"),
    )
    push_retry_max_s: int = setting(
        "OO_PUSH_RETRY_MAX_S",
        600,
        "The longest wait before a retry, whatever Retry-After asks (seconds).",
        clamped(1),
    )
