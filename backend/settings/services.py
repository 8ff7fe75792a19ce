"""Settings of the outside services oO talks to: sign-in providers, models, connected apps.

Each field names its variable, default, parser and doc (`setting(env, default, doc, parse)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.settings.fields import base_url, clamped, one_of, pem, setting


@dataclass(frozen=True, kw_only=True)
class SignInSettings:
    """Sign in with Google and with Apple (each hidden until its client id is set)."""

    google_client_id: str = setting(
        "GOOGLE_CLIENT_ID",
        "",
        "OAuth client id for Sign in with Google (empty: the button is hidden).",
    )
    google_client_secret: str = setting("GOOGLE_CLIENT_SECRET", "", "Its secret.")
    google_discovery_url: str = setting(
        "GOOGLE_DISCOVERY_URL",
        "https://accounts.google.com/.well-known/openid-configuration",
        "OpenID discovery document (overridden by tests' stand-in).",
    )
    google_revoke_url: str = setting(
        "GOOGLE_REVOKE_URL",
        "",
        "Google's token revocation endpoint; empty: the discovery document's "
        "`revocation_endpoint` (so one GOOGLE_DISCOVERY_URL points every Google call elsewhere).",
    )
    apple_client_id: str = setting(
        "APPLE_CLIENT_ID",
        "",
        "The Services ID for Sign in with Apple (empty: the button is hidden).",
    )
    apple_team_id: str = setting(
        "APPLE_TEAM_ID", "", "The developer team id (issuer of the client-secret JWT)."
    )
    apple_key_id: str = setting(
        "APPLE_KEY_ID", "", "The id of the .p8 key (the `kid` of the client-secret JWT)."
    )
    apple_private_key: str = setting(
        "APPLE_PRIVATE_KEY",
        "",
        "The .p8 key's PEM text, `\\n` for line breaks (or APPLE_PRIVATE_KEY_FILE: a path to it).",
        pem,
    )
    apple_issuer: str = setting(
        "APPLE_ISSUER", "https://appleid.apple.com", "The expected `iss` of Apple id_tokens."
    )
    apple_authorize_url: str = setting(
        "APPLE_AUTHORIZE_URL",
        "https://appleid.apple.com/auth/authorize",
        "Apple's authorization endpoint.",
    )
    apple_token_url: str = setting(
        "APPLE_TOKEN_URL",
        "https://appleid.apple.com/auth/token",
        "Apple's token endpoint.",
    )
    apple_jwks_url: str = setting(
        "APPLE_JWKS_URL", "https://appleid.apple.com/auth/keys", "Apple's signing keys."
    )
    apple_revoke_url: str = setting(
        "APPLE_REVOKE_URL",
        "https://appleid.apple.com/auth/revoke",
        "Apple's token revocation endpoint.",
    )


@dataclass(frozen=True, kw_only=True)
class LlmSettings:
    """The model gateway: which models write tips, embed and judge, and how they are called."""

    llm_embedder: str = setting(
        "OO_LLM_EMBEDDER",
        "",
        "The litellm model behind the `embedder` alias (e.g. `ollama/nomic-embed-text`). "
        "Empty: focus-area groups task texts lexically instead.",
    )
    llm_embedder_api_base: str = setting(
        "OO_LLM_EMBEDDER_API_BASE",
        "",
        "The embedder's server URL (e.g. http://127.0.0.1:11434).",
    )
    llm_config: str = setting(
        "OO_LLM_CONFIG",
        "",
        "Path of the model gateway's YAML (litellm's `model_list` and `router_settings`, with "
        "the aliases tip-generator, embedder, judge). Optional; the OO_LLM_* model settings "
        "override the aliases they name.",
    )
    llm_tip_model: str = setting(
        "OO_LLM_TIP_MODEL",
        "",
        "The litellm model behind `tip-generator` (e.g. `ollama/qwen2.5:3b`, `openai/smollm2` "
        "with an api base). Empty and no YAML: the template writer (no model).",
    )
    llm_tip_api_base: str = setting(
        "OO_LLM_TIP_API_BASE", "", "The tip model's server (e.g. http://127.0.0.1:8088/v1)."
    )
    llm_tip_api_key: str = setting(
        "OO_LLM_TIP_API_KEY", "", "The tip model's key (local servers need none)."
    )
    llm_tip_fallback_model: str = setting(
        "OO_LLM_TIP_FALLBACK_MODEL",
        "",
        "A litellm model tried when the tip model fails (same api base unless the YAML says "
        "otherwise).",
    )
    llm_judge_model: str = setting(
        "OO_LLM_JUDGE",
        "",
        "The litellm model behind `judge` (evaluation only; cloud is opt-in).",
    )
    llm_json_mode: str = setting(
        "OO_LLM_JSON_MODE",
        "object",
        "How the tip model is held to JSON: `object` (OpenAI-style JSON mode, widely "
        "supported), `schema` (JSON mode with the answer's schema: grammar-constrained decoding "
        "on llama.cpp servers such as `oo llm-serve`), or `off` (the gate alone).",
        one_of("object", "schema", "off"),
    )
    llm_timeout_s: int = setting(
        "OO_LLM_TIMEOUT", 60, "Seconds one model call may take before it counts as an error."
    )
    llm_retries: int = setting(
        "OO_LLM_RETRIES",
        1,
        "Transport-level retries of one call (the router's; clarification retries of invalid "
        "answers are separate and at most 2).",
    )
    llm_candidates: int = setting(
        "OO_LLM_CANDIDATES",
        4,
        "Tip candidates asked for (and kept) per person and generation; 1..8.",
        clamped(1, 8),
    )
    llm_candidate_ttl_s: int = setting(
        "OO_LLM_CANDIDATE_TTL",
        3 * 3600,
        "Seconds a generated candidate may be served (never past the expiry of the agent notes "
        "it was written from).",
    )
    llm_context_tokens: int = setting(
        "OO_LLM_CONTEXT_TOKENS",
        900,
        "Budget of the person's context in the prompt (estimated).",
    )
    llm_background: bool = setting(
        "OO_LLM_BACKGROUND",
        True,
        "Write tip candidates in the background (when an agent's note changes and on the "
        "refresh schedule). Off: only when asked (admin, `oo llm-generate`); the test harness "
        "turns it off so a cron tick never changes which tip another domain's test sees.",
    )
    llm_refresh_min: int = setting(
        "OO_LLM_REFRESH_MIN",
        30,
        "Minutes between scheduled candidate refreshes, 1..60 (a person whose context did not "
        "change and whose candidates are fresh is skipped).",
        clamped(1, 60),
    )
    llm_concurrency: int = setting(
        "OO_LLM_CONCURRENCY",
        2,
        "Model calls one worker process makes at once, at least 1 (local servers answer one "
        "request at a time; queued jobs wait instead of timing out).",
        clamped(1),
    )


@dataclass(frozen=True, kw_only=True)
class IntegrationsSettings:
    """Connecting people's apps (Todoist, Google Calendar) and syncing them."""

    todoist_client_id: str = setting(
        "TODOIST_CLIENT_ID",
        "",
        "OAuth app id for connecting Todoist (empty: Connect says what to set).",
    )
    todoist_client_secret: str = setting(
        "TODOIST_CLIENT_SECRET", "", "Its secret; also the key of Todoist's webhook signatures."
    )
    todoist_authorize_url: str = setting(
        "TODOIST_AUTHORIZE_URL",
        "https://todoist.com/oauth/authorize",
        "Todoist's authorization endpoint.",
    )
    todoist_token_url: str = setting(
        "TODOIST_TOKEN_URL",
        "https://todoist.com/oauth/access_token",
        "Todoist's token endpoint (exchange and refresh).",
    )
    todoist_api_url: str = setting(
        "TODOIST_API_URL",
        "https://api.todoist.com/api/v1",
        "Base of Todoist's unified API v1.",
        base_url,
    )
    todoist_revoke_url: str = setting(
        "TODOIST_REVOKE_URL",
        "https://api.todoist.com/api/v1/revoke",
        "Todoist's token revocation endpoint (RFC 7009).",
    )
    google_calendar_api_url: str = setting(
        "GOOGLE_CALENDAR_API_URL",
        "https://www.googleapis.com/calendar/v3",
        "Base of the Calendar API (read-only use).",
        base_url,
    )
    sync_interval_s: int = setting(
        "OO_SYNC_INTERVAL", 300, "Seconds between scheduled syncs of every connected source."
    )
    sync_max_failures: int = setting(
        "OO_SYNC_MAX_FAILURES",
        5,
        'Failed syncs in a row before a source is marked "needs attention".',
    )
