"""Settings of the security baseline: rate limits, and who may read the schema (ADR 0018).

A rate is `N/period` in the notation of the `limits` library ("30/minute", "1000/hour",
"5/second"); a blank variable keeps the default. Defaults are generous: people and the test
suite never meet them, a script guessing sign-in links or tokens does within a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import parse as parse_rate

from backend.settings.fields import SettingsError, setting


def rate(name: str, raw: str) -> str:
    """A rate such as `30/minute`, checked now rather than on the first request."""
    try:
        parse_rate(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a rate such as 30/minute, got {raw!r}") from None
    return raw


def _not_production(values: Mapping[str, Any]) -> bool:
    return bool(values["env"] != "production")


@dataclass(frozen=True, kw_only=True)
class HardeningSettings:
    """Rate limits (per client address and per account) and the schema's visibility."""

    rate_limits: bool = setting(
        "OO_RATE_LIMITS",
        True,
        "Refuse callers past the rates below (HTTP 429, Retry-After). Redis holds the counters; "
        "when it does not answer, requests are let through.",
    )
    rate_sign_in: str = setting(
        "OO_RATE_SIGN_IN",
        "300/minute",
        "Sign-in attempts (one-time links, provider callbacks, token sign-in, demo) per address.",
        rate,
    )
    rate_sign_in_failures: str = setting(
        "OO_RATE_SIGN_IN_FAILURES",
        "30/minute",
        "Refused sign-in attempts (expired or guessed links, failed callbacks) per address; past "
        "it, every sign-in attempt from there is refused until the window passes.",
        rate,
    )
    rate_sessions: str = setting(
        "OO_RATE_SESSIONS", "60/hour", "Sessions started per account.", rate
    )
    rate_tokens: str = setting(
        "OO_RATE_TOKENS", "20/hour", "Personal tokens created per account (page or GraphQL).", rate
    )
    rate_graphql: str = setting(
        "OO_RATE_GRAPHQL",
        "1200/minute",
        "GraphQL requests over HTTP per address, and again per credential (token or session).",
        rate,
    )
    rate_graphql_cost: str = setting(
        "OO_RATE_GRAPHQL_COST",
        "30000/minute",
        "GraphQL cost per address, and again per credential: each field costs 1, a list "
        "multiplies what it selects by the size it asks for, a mutation 10 more "
        "(backend/graphql/cost.py).",
        rate,
    )
    rate_auth_failures: str = setting(
        "OO_RATE_AUTH_FAILURES",
        "30/minute",
        "Refused personal tokens per address; past it, every bearer call from there is refused "
        "until the window passes.",
        rate,
    )
    rate_webhooks: str = setting(
        "OO_RATE_WEBHOOKS",
        "600/minute",
        "Webhook deliveries per address, and again per webhook URL.",
        rate,
    )
    graphql_introspection: bool = setting(
        "OO_GRAPHQL_INTROSPECTION",
        True,
        "Anyone may introspect the schema. Unset: on in development, off in production (admins "
        "may always).",
        derive=_not_production,
    )
    graphql_playground: bool = setting(
        "OO_GRAPHQL_PLAYGROUND",
        True,
        "Serve the GraphiQL page at GET /graphql to anyone. Unset: on in development, off in "
        "production (admins still get it).",
        derive=_not_production,
    )
    graphql_max_introspection_depth: int = setting(
        "OO_GRAPHQL_MAX_INTROSPECTION_DEPTH",
        15,
        "Deepest introspection selection accepted, counting `__schema` as 1 (the standard "
        "introspection query, GraphiQL's, is 15 deep).",
    )
