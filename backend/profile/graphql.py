"""GraphQL of the profile: the caller's profile, the agent registry, and changing settings."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from agents.registry import all_agents
from agents.types import Manifest, ParamSpec
from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.types import UserError
from backend.profile import service


@strawberry.type
class Preference:
    """One preference: set by the person (source "user") or inferred by an agent."""

    scope: str
    key: str
    value: JSON | None
    source: str
    evidence: int = strawberry.field(description="Events an inferred value rests on (0: yours).")
    updated_at: datetime

    @classmethod
    def of(cls, p: service.PreferenceView) -> Preference:
        """From the service's view."""
        return cls(
            scope=p.scope,
            key=p.key,
            value=p.value,
            source=p.source,
            evidence=p.evidence,
            updated_at=p.updated_at,
        )


@strawberry.type
class Consent:
    """A consent key; untouched keys are granted (implicit consent on sign-in)."""

    key: str
    granted: bool
    granted_at: datetime | None
    revoked_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, c: service.ConsentView) -> Consent:
        """From the service's view."""
        return cls(
            key=c.key,
            granted=c.granted,
            granted_at=c.granted_at,
            revoked_at=c.revoked_at,
            updated_at=c.updated_at,
        )


@strawberry.type(name="ProfileContext")
class ContextType:
    """A named context; while active it silences agents and tip kinds."""

    id: strawberry.ID
    name: str
    silenced_agents: list[str]
    silenced_kinds: list[str]
    active: bool
    updated_at: datetime

    @classmethod
    def of(cls, c: service.ContextView) -> ContextType:
        """From the service's view."""
        return cls(
            id=strawberry.ID(c.id),
            name=c.name,
            silenced_agents=list(c.silenced_agents),
            silenced_kinds=list(c.silenced_kinds),
            active=c.active,
            updated_at=c.updated_at,
        )


@strawberry.type
class AgentOutput:
    """An agent's latest snippet for the person (current agent version only)."""

    agent_id: str
    agent_version: str
    snippet: str
    snippet_hash: str
    evidence: int
    computed_at: datetime
    expires_at: datetime
    age_seconds: float
    expired: bool

    @classmethod
    def of(cls, o: service.OutputView) -> AgentOutput:
        """From the service's view."""
        return cls(
            agent_id=o.agent_id,
            agent_version=o.agent_version,
            snippet=o.snippet,
            snippet_hash=o.snippet_hash,
            evidence=o.evidence,
            computed_at=o.computed_at,
            expires_at=o.expires_at,
            age_seconds=round(o.age_s, 3),
            expired=o.expired,
        )


@strawberry.type
class Profile:
    """What the person told oO and what oO inferred."""

    globals: JSON = strawberry.field(description="Global-scope preferences as one object.")
    timezone: str
    preferences: list[Preference]
    consents: list[Consent]
    contexts: list[ContextType]
    active_context: ContextType | None
    agent_outputs: list[AgentOutput]


@strawberry.type
class AgentParam:
    """An inferred parameter an agent declares."""

    key: str
    description: str
    cold_start_default: JSON | None
    inferred: bool = strawberry.field(description="False: cold-start only (never inferred).")


@strawberry.type
class Agent:
    """An agent of the registry: its manifest."""

    id: str
    name: str
    version: str
    description: str
    consent_key: str
    ttl_seconds: int
    schedule: str
    min_history: int
    params: list[AgentParam]

    @classmethod
    def of(cls, m: Manifest) -> Agent:
        """From a manifest."""

        def default(spec: ParamSpec) -> object:
            return None if callable(spec.cold_start_default) else spec.cold_start_default

        return cls(
            id=m.id,
            name=m.name,
            version=m.version,
            description=m.description,
            consent_key=m.consent_key,
            ttl_seconds=m.ttl_s,
            schedule=m.schedule,
            min_history=m.min_history,
            params=[
                AgentParam(
                    key=p.key,
                    description=p.description,
                    cold_start_default=default(p),  # type: ignore[arg-type]
                    inferred=p.infer is not None,
                )
                for p in m.params
            ],
        )


@strawberry.type
class PreferencesPayload:
    """The scope's preferences after the change (or errors; nothing stored)."""

    preferences: list[Preference] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConsentPayload:
    """The consent after the change (or errors)."""

    consent: Consent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContextPayload:
    """The context after the change (or errors)."""

    context: ContextType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def user_error(err: service.ProfileError) -> UserError:
    """A ProfileError as a GraphQL UserError."""
    return UserError(code=err.code, message=err.message, field=err.field)


async def load_profile(user_id: str, timezone: str) -> Profile:
    """The whole profile of one person."""
    prefs = await service.preferences(user_id)
    ctxs = [ContextType.of(c) for c in await service.contexts(user_id)]
    return Profile(
        globals={p.key: p.value for p in prefs if p.scope == service.GLOBAL},  # type: ignore[arg-type]
        timezone=timezone,
        preferences=[Preference.of(p) for p in prefs],
        consents=[Consent.of(c) for c in await service.consents(user_id)],
        contexts=ctxs,
        active_context=next((c for c in ctxs if c.active), None),
        agent_outputs=[AgentOutput.of(o) for o in await service.agent_outputs(user_id)],
    )


@strawberry.type
class ProfileQuery:
    """Profile queries."""

    @strawberry.field(permission_classes=[IsAuthenticated], description="Your profile.")
    async def profile(self, info: Info) -> Profile:
        user = await info.context.user()
        return await load_profile(user.user_id, user.timezone)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The agent registry: manifests, versions and consent keys.",
    )
    def agents(self) -> list[Agent]:
        return [Agent.of(m) for m in all_agents()]


@strawberry.type
class ProfileMutation:
    """Profile mutations (each only ever touches the caller's own profile)."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description=(
            "Set preferences of a scope (`global` or `agent:<id>`) as your own; a null value "
            "resets the key (an agent's key goes back to its inferred value)."
        ),
    )
    async def update_preferences(self, info: Info, scope: str, values: JSON) -> PreferencesPayload:
        user = await info.context.user()
        if not isinstance(values, dict):
            return PreferencesPayload(
                errors=[UserError(code="INVALID_VALUE", message="values must be an object.")]
            )
        try:
            rows = await service.set_preferences(user.user_id, scope, values)
        except service.ProfileError as err:
            return PreferencesPayload(errors=[user_error(err)])
        return PreferencesPayload(preferences=[Preference.of(p) for p in rows])

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Grant or revoke a consent; revoking removes what it allowed at once.",
    )
    async def set_consent(self, info: Info, key: str, granted: bool) -> ConsentPayload:
        user = await info.context.user()
        try:
            consent = await service.set_consent(user.user_id, key, granted)
        except service.ProfileError as err:
            return ConsentPayload(errors=[user_error(err)])
        return ConsentPayload(consent=Consent.of(consent))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Create a context, or replace what an existing one (same name) silences.",
    )
    async def upsert_context(
        self,
        info: Info,
        name: str,
        silenced_agents: list[str] | None = None,
        silenced_kinds: list[str] | None = None,
    ) -> ContextPayload:
        user = await info.context.user()
        try:
            ctx = await service.upsert_context(user.user_id, name, silenced_agents, silenced_kinds)
        except service.ProfileError as err:
            return ContextPayload(errors=[user_error(err)])
        return ContextPayload(context=ContextType.of(ctx))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Make a context the active one (at most one is), or deactivate it.",
    )
    async def activate_context(self, info: Info, name: str, active: bool = True) -> ContextPayload:
        user = await info.context.user()
        try:
            ctx = await service.activate_context(user.user_id, name, active)
        except service.ProfileError as err:
            return ContextPayload(errors=[user_error(err)])
        return ContextPayload(context=ContextType.of(ctx))
