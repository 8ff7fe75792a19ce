"""A domain's one declaration: everything the composer needs to plug it in.

Each domain folder has a `domain.py` with `DOMAIN = Domain(...)`; `backend/domains.py` lists
them, and the app (routes), the schema (Query / Mutation / Subscription parts), the worker
(jobs and cron), Piccolo (its app) and the privacy page (its data categories) all read that one
list. Adding a domain is one folder and one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.contracts.privacy import Category


@dataclass(frozen=True)
class Domain:
    """What one domain brings to the house (every part optional)."""

    name: str
    piccolo_app: str | None = None
    """Module of its Piccolo AppConfig (e.g. "backend.identity.piccolo_app")."""
    routes: Sequence[Any] = ()
    """Litestar route handlers / routers of its pages and endpoints."""
    queries: Sequence[type] = ()
    mutations: Sequence[type] = ()
    subscriptions: Sequence[type] = ()
    """Strawberry classes merged into the root Query / Mutation / Subscription."""
    jobs: Sequence[Any] = ()
    cron_jobs: Sequence[Any] = ()
    """arq job functions and cron jobs the worker runs."""
    privacy_categories: Sequence[Category] = ()
    """How its stored data is grouped on the person's data page."""
    settings: type | None = None
    """Its section of the settings (backend/settings.py), for the map and the docs."""
    install: Callable[[], None] | None = None
    """Registers its implementations into the contracts (candidate sources, event handlers,
    the authenticator, revokers); the composer calls it once per process."""
