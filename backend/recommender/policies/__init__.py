"""Policies behind one protocol, and the in-code registry of them by id.

Which policy is active and which run in shadow is decided at run time by the database registry
(backend/recommender/registry.py); this module only knows which policies exist.
"""

from __future__ import annotations

from backend.recommender.policies.base import (
    Contribution,
    Decision,
    Policy,
    PooledPolicy,
    UserState,
)
from backend.recommender.policies.egreedy import EpsilonGreedy
from backend.recommender.policies.lints import LinearThompson
from backend.recommender.policies.linucb import LinUCB
from backend.recommender.policies.oo import OOPolicy
from backend.recommender.policies.oo2 import OOv2Policy
from backend.recommender.policies.oo3 import OOv3Policy
from backend.recommender.policies.oo4 import OOv4Policy
from backend.recommender.policies.oo5 import OOv5Policy
from backend.recommender.policies.random_policy import RandomPolicy

__all__ = [
    "DEFAULT_ACTIVE_ID",
    "Contribution",
    "Decision",
    "EpsilonGreedy",
    "LinUCB",
    "LinearThompson",
    "OOPolicy",
    "OOv2Policy",
    "OOv3Policy",
    "OOv4Policy",
    "OOv5Policy",
    "Policy",
    "PooledPolicy",
    "RandomPolicy",
    "UserState",
    "active_policy",
    "all_policies",
    "get_policy",
    "register",
]

_REGISTRY: dict[str, Policy] = {}

DEFAULT_ACTIVE_ID = RandomPolicy.id
"""The policy an empty registry table starts with as active; every learner starts in shadow
(docs/adr/0010-policy-registry-random-first.md)."""


def register(policy: Policy) -> None:
    """Add a policy to the registry."""
    _REGISTRY[policy.id] = policy


def get_policy(policy_id: str) -> Policy:
    """A registered policy by id (KeyError when unknown)."""
    return _REGISTRY[policy_id]


def all_policies() -> list[Policy]:
    """Every registered policy, in registration order."""
    return list(_REGISTRY.values())


def active_policy() -> Policy:
    """The default active policy (used where there is no database, e.g. benchmarks)."""
    return _REGISTRY[DEFAULT_ACTIVE_ID]


for _policy in (
    RandomPolicy(),
    EpsilonGreedy(),
    LinUCB(),
    LinearThompson(),
    OOPolicy(),
    OOv2Policy(),
    OOv3Policy(),
    OOv4Policy(),
    OOv5Policy(),
):
    register(_policy)
