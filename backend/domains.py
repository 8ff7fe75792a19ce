"""The one list of domains the composer reads (app routes, schema, worker, Piccolo, privacy).

Adding a domain is one folder with a `domain.py` (`DOMAIN = Domain(...)`) and one line here.
Order: the root GraphQL types list each domain's fields in this order.
"""

from __future__ import annotations

from importlib import import_module

from backend.contracts.privacy import register_categories
from backend.domain import Domain

INSTALLED = (
    "backend.events",
    "backend.identity",
    "backend.recommender",
    "backend.integrations",
    "backend.privacy",
    "backend.profile",
    "backend.llm",
    "backend.simulation",
    "backend.admin",
    "backend.notifier",
)


def _declaration(package: str) -> Domain:
    declared = getattr(import_module(f"{package}.domain"), "DOMAIN", None)
    if not isinstance(declared, Domain):
        raise TypeError(f"{package}.domain must define DOMAIN = Domain(...)")
    return declared


DOMAINS: tuple[Domain, ...] = tuple(_declaration(p) for p in INSTALLED)


class _Installed:
    done = False


def install() -> None:
    """Register every domain's implementations into the contracts (once per process)."""
    if _Installed.done:
        return
    for domain in DOMAINS:
        register_categories(tuple(domain.privacy_categories))
        if domain.install is not None:
            domain.install()
    _Installed.done = True
