"""Admin GraphQL of the profile: features with their freshness, rebuild, compute one agent."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from agents.registry import UnknownAgent
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError, missing_reason
from backend.profile import service
from backend.profile.graphql import AgentOutput, user_error


@strawberry.type
class ProfileFeature:
    """A profile feature as stored: reading it never recomputes it."""

    name: str
    description: str
    value: JSON | None
    computed_at: datetime | None
    age_seconds: float | None
    fresh: bool = strawberry.field(description="Younger than ttlSec and not invalidated since.")
    invalidated: bool = strawberry.field(description="An invalidatedBy event happened since.")
    ttl_sec: int
    invalidated_by: list[str]

    @classmethod
    def of(cls, f: service.FeatureView) -> ProfileFeature:
        """From the service's view."""
        return cls(
            name=f.name,
            description=f.description,
            value=f.value,
            computed_at=f.computed_at,
            age_seconds=round(f.age_s, 3) if f.age_s is not None else None,
            fresh=f.fresh,
            invalidated=f.invalidated,
            ttl_sec=f.ttl_s,
            invalidated_by=list(f.invalidated_by),
        )


@strawberry.type
class RebuildProfilePayload:
    """The recomputed features (agent runs are queued), or errors."""

    features: list[ProfileFeature] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ComputeAgentPayload:
    """What the on-demand run did: computed, skipped (with why), queued or failed."""

    status: str | None = None
    reason: str | None = None
    output: AgentOutput | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def parse_user_id(raw: strawberry.ID) -> str | None:
    """An admin argument `userId` as a canonical UUID string; None when it is not a UUID."""
    try:
        return str(uuid.UUID(str(raw)))
    except ValueError:
        return None


async def existing_user_id(raw: strawberry.ID) -> str | None:
    """The id of the live person `raw` names; None when it is malformed or names nobody."""
    uid = parse_user_id(raw)
    if uid is None or not await service.person_exists(uid):
        return None
    return uid


NO_USER = UserError(code="NOT_FOUND", message="No such person.", field="userId")
"""The error of an admin operation whose `userId` names nobody."""


@strawberry.type
class ProfileAdminQuery:
    """Admin profile queries."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="A person's profile features: value, age, fresh, ttlSec, description.",
    )
    async def profile_features(self, info: Info, user_id: strawberry.ID) -> list[ProfileFeature]:
        uid = parse_user_id(user_id)
        if uid is None:
            return []
        return [ProfileFeature.of(f) for f in await service.read_features(uid)]


@strawberry.type
class ProfileAdminMutation:
    """Admin profile mutations (audit-logged)."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Recompute every profile feature of a person now; queue their agents.",
    )
    async def rebuild_profile(
        self, info: Info, user_id: strawberry.ID, reason: str
    ) -> RebuildProfilePayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return RebuildProfilePayload(errors=[refused])
        uid = parse_user_id(user_id)
        if uid is None:
            return RebuildProfilePayload(errors=[NO_USER])
        try:
            views = await service.rebuild_profile(admin.user_id, uid, reason.strip())
        except service.ProfileError as err:
            return RebuildProfilePayload(errors=[user_error(err)])
        return RebuildProfilePayload(features=[ProfileFeature.of(f) for f in views])

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Run one agent for a person now, on a worker (waits up to 15 s).",
    )
    async def compute_agent(
        self, info: Info, user_id: strawberry.ID, agent_id: str, reason: str
    ) -> ComputeAgentPayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return ComputeAgentPayload(errors=[refused])
        uid = await existing_user_id(user_id)
        if uid is None:
            return ComputeAgentPayload(errors=[NO_USER])
        try:
            status, reason = await service.request_compute(
                admin.user_id, uid, agent_id, reason=reason.strip()
            )
        except UnknownAgent:
            known = ", ".join(service.agent_ids())
            return ComputeAgentPayload(
                errors=[
                    UserError(
                        code="UNKNOWN_AGENT",
                        message=f"No agent {agent_id!r}; known: {known}.",
                        field="agentId",
                    )
                ]
            )
        output = next((o for o in await service.agent_outputs(uid) if o.agent_id == agent_id), None)
        return ComputeAgentPayload(
            status=status,
            reason=reason or None,
            output=AgentOutput.of(output) if output and status == "computed" else None,
        )
