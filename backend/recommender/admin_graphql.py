"""Admin GraphQL of the recommender: the policy registry with live stats, promotion, resets."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError, missing_reason
from backend.recommender import registry, shadow_replay
from backend.recommender.policies import get_policy
from backend.recommender.policy_stats import PolicyStats as Stats
from backend.recommender.policy_stats import policy_stats
from backend.recommender.state import reset_states


@strawberry.enum
class PolicyStatus(Enum):
    """Whether a policy is served, runs in shadow, or is off."""

    ACTIVE = "active"
    SHADOW = "shadow"
    DISABLED = "disabled"


@strawberry.type
class PolicyStats:
    """What a policy version did in the last 30 days."""

    decisions: int = strawberry.field(description="Served plus shadow decisions.")
    served_decisions: int
    rewarded_decisions: int
    mean_reward: float | None = strawberry.field(description="Mean reward of its served tips.")
    mean_reward_low: float | None = strawberry.field(
        description="Lower end of the mean reward's 95% interval (over rewarded decisions)."
    )
    mean_reward_high: float | None = strawberry.field(
        description="Upper end of the mean reward's 95% interval (over rewarded decisions)."
    )
    shadow_decisions: int
    agreed_decisions: int
    agreement_rate: float | None = strawberry.field(
        description="Share of its shadow decisions that picked what the active policy served."
    )
    agreed_mean_reward: float | None = strawberry.field(
        description="Mean reward of the served tip when its shadow pick agreed."
    )

    @classmethod
    def of(cls, s: Stats) -> PolicyStats:
        """From the service's stats."""
        low, high = s.reward_ci
        return cls(
            decisions=s.decisions,
            served_decisions=s.served_decisions,
            rewarded_decisions=s.rewarded_decisions,
            mean_reward=s.mean_reward,
            mean_reward_low=low,
            mean_reward_high=high,
            shadow_decisions=s.shadow_decisions,
            agreed_decisions=s.agreed_decisions,
            agreement_rate=s.agreement_rate,
            agreed_mean_reward=s.agreed_mean_reward,
        )


@strawberry.type
class Policy:
    """A registered ranking policy."""

    id: strawberry.ID
    version: str
    status: PolicyStatus
    description: str
    known: bool = strawberry.field(description="False when the code no longer has this policy.")
    created_at: datetime
    updated_at: datetime
    promoted_at: datetime | None
    stats: PolicyStats

    @classmethod
    def of(cls, entry: registry.RegistryEntry, stats: Stats) -> Policy:
        """From a registry entry and its stats."""
        return cls(
            id=strawberry.ID(entry.policy_id),
            version=entry.version,
            status=PolicyStatus(entry.status),
            description=entry.description,
            known=entry.known,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            promoted_at=entry.promoted_at,
            stats=PolicyStats.of(stats),
        )


@strawberry.type
class PromotionEvidence:
    """The numbers behind a promotion decision."""

    policy_id: str
    incumbent_id: str
    shadow_decisions: int
    required_decisions: int
    agreed_decisions: int
    agreement_rate: float | None
    estimator: str | None
    candidate_estimate: float | None
    candidate_lower: float | None
    incumbent_estimate: float | None

    @classmethod
    def of(cls, e: registry.Evidence) -> PromotionEvidence:
        """From the registry's evidence."""
        return cls(
            policy_id=e.policy_id,
            incumbent_id=e.incumbent_id,
            shadow_decisions=e.shadow_decisions,
            required_decisions=e.required_decisions,
            agreed_decisions=e.agreed_decisions,
            agreement_rate=e.agreement_rate,
            estimator=e.estimator,
            candidate_estimate=e.candidate_estimate,
            candidate_lower=e.candidate_lower,
            incumbent_estimate=e.incumbent_estimate,
        )


@strawberry.type
class PolicyPayload:
    """The policy after a change (or errors; nothing changed then)."""

    policy: Policy | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PromotePolicyPayload:
    """The promoted policy and the evidence (also given when refused)."""

    policy: Policy | None = None
    evidence: PromotionEvidence | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ResetPolicyStatePayload:
    """How many per-user policy states were forgotten."""

    deleted: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _policy(entry: registry.RegistryEntry) -> Policy:
    stats = await policy_stats({entry.policy_id: entry.version})
    return Policy.of(entry, stats[entry.policy_id])


def _error(err: registry.RegistryError) -> UserError:
    return UserError(code=err.code, message=err.message, field=err.field)


@strawberry.type
class PolicyAdminQuery:
    """Admin queries of the recommender."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Every registered policy with live stats (last 30 days), active first.",
    )
    async def policies(self, info: Info) -> list[Policy]:
        entries = await registry.entries()
        stats = await policy_stats({e.policy_id: e.version for e in entries})
        return [Policy.of(e, stats[e.policy_id]) for e in entries]


@strawberry.type
class PolicyAdminMutation:
    """Admin mutations of the recommender (each audit-logged with who, when, what, why)."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Move a policy between SHADOW and DISABLED (ACTIVE: use promotePolicy).",
    )
    async def set_policy_status(
        self, info: Info, id: strawberry.ID, status: PolicyStatus, reason: str
    ) -> PolicyPayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return PolicyPayload(errors=[refused])
        try:
            entry = await registry.set_status(admin.user_id, str(id), status.value, reason.strip())
        except registry.RegistryError as err:
            return PolicyPayload(errors=[_error(err)])
        return PolicyPayload(policy=await _policy(entry))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description=(
            "Make a policy the active one. Refused (with the evidence) unless it has enough "
            "shadow decisions and the lower bound of its off-policy estimate beats the "
            "incumbent's; force: true overrides that. The reason goes into the audit log."
        ),
    )
    async def promote_policy(
        self, info: Info, id: strawberry.ID, reason: str, force: bool = False
    ) -> PromotePolicyPayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return PromotePolicyPayload(errors=[refused])
        try:
            entry, evidence = await shadow_replay.promote(
                admin.user_id, str(id), force, reason.strip()
            )
        except registry.RegistryError as err:
            return PromotePolicyPayload(
                evidence=PromotionEvidence.of(err.evidence) if err.evidence else None,
                errors=[_error(err)],
            )
        return PromotePolicyPayload(
            policy=await _policy(entry), evidence=PromotionEvidence.of(evidence)
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Forget what policies learned about a person (one policy, or all).",
    )
    async def reset_policy_state(
        self,
        info: Info,
        user_id: strawberry.ID,
        reason: str,
        policy_id: str | None = None,
    ) -> ResetPolicyStatePayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return ResetPolicyStatePayload(errors=[refused])
        try:
            uid = str(uuid.UUID(str(user_id)))
        except ValueError:
            return ResetPolicyStatePayload(
                errors=[UserError(code="NOT_FOUND", message="No such user.", field="userId")]
            )
        if policy_id is not None:
            try:
                get_policy(policy_id)
            except KeyError:
                return ResetPolicyStatePayload(
                    errors=[
                        UserError(
                            code="NOT_FOUND", message=f"No policy {policy_id!r}.", field="policyId"
                        )
                    ]
                )
        deleted = await reset_states(admin.user_id, uid, policy_id, reason.strip())
        return ResetPolicyStatePayload(deleted=deleted)
