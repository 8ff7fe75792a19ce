"""Admin GraphQL of the ML console: off-policy evidence of the policies, one simulation run,
cancelling a run. (The policy list and its actions are the recommender's own fields; starting,
listing and following runs are the simulator's.)"""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.admin import policy_evaluation
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError, missing_reason
from backend.simulation import service, store
from backend.simulation.graphql import Simulation


@strawberry.type
class OpeEstimate:
    """One off-policy estimator's value of a policy, with its 95% interval."""

    estimator: str = strawberry.field(description="IPS, SNIPS or DR.")
    value: float
    low: float
    high: float


@strawberry.type
class PolicyOpe:
    """A policy's estimated value on the logged decisions."""

    policy_id: str
    served_decisions: int = strawberry.field(description="Decisions of the window it served.")
    served_mean_reward: float | None = strawberry.field(
        description="Mean reward it actually earned on them (on-policy)."
    )
    effective_sample_size: float = strawberry.field(
        description="(Σw)² / Σw²: how many decisions the reweighted log is worth for it."
    )
    estimates: list[OpeEstimate]
    clears_bar: bool | None = strawberry.field(
        description=(
            "Whether the lower bound of its promotion estimate beats the incumbent's value "
            "(null for the active policy, or when the log is too thin to estimate)."
        )
    )


@strawberry.type
class PolicyEvaluation:
    """The latest off-policy evaluation of every policy that is not disabled."""

    computed_at: datetime
    window_days: int
    decisions: int = strawberry.field(description="Rewarded, replayable decisions estimated on.")
    min_decisions: int = strawberry.field(
        description="Fewer decisions than this: promotion does not trust the estimates."
    )
    estimator: str = strawberry.field(description="The estimator promotion decides on.")
    incumbent_id: str
    incumbent_value: float | None = strawberry.field(
        description="What a candidate's lower bound must beat (null: too few decisions)."
    )
    policies: list[PolicyOpe]

    @classmethod
    def of(cls, e: policy_evaluation.Evaluation) -> PolicyEvaluation:
        """From the stored evaluation."""
        return cls(
            computed_at=e.computed_at,
            window_days=e.window_days,
            decisions=e.decisions,
            min_decisions=e.min_decisions,
            estimator=e.estimator,
            incumbent_id=e.incumbent_id,
            incumbent_value=e.incumbent_value,
            policies=[
                PolicyOpe(
                    policy_id=p.policy_id,
                    served_decisions=p.served,
                    served_mean_reward=p.served_mean,
                    effective_sample_size=p.ess,
                    estimates=[
                        OpeEstimate(estimator=name.upper(), **values)
                        for name, values in p.estimates.items()
                    ],
                    clears_bar=p.clears_bar,
                )
                for p in e.policies
            ],
        )


@strawberry.type
class EvaluatePoliciesPayload:
    """The fresh evaluation."""

    evaluation: PolicyEvaluation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelSimulationPayload:
    """The run after cancelling (or errors; nothing changed then)."""

    simulation: Simulation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MlConsoleQuery:
    """Admin queries of the ML console."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description=(
            "The latest off-policy evaluation (IPS, SNIPS, DR with 95% intervals) of every "
            "policy on the logged decisions; refreshed hourly and by evaluatePolicies. Null "
            "until one was computed."
        ),
    )
    async def policy_evaluation(self, info: Info) -> PolicyEvaluation | None:
        latest = await policy_evaluation.latest()
        return PolicyEvaluation.of(latest) if latest else None

    @strawberry.field(permission_classes=[IsAdmin], description="One simulation run, or null.")
    async def simulation_run(self, info: Info, id: strawberry.ID) -> Simulation | None:
        view = await store.get_run(str(id))
        return Simulation.of(view) if view else None


@strawberry.type
class MlConsoleMutation:
    """Admin mutations of the ML console."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Evaluate every policy on the logged decisions now (takes seconds).",
    )
    async def evaluate_policies(self, info: Info) -> EvaluatePoliciesPayload:
        return EvaluatePoliciesPayload(
            evaluation=PolicyEvaluation.of(await policy_evaluation.evaluate())
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Stop a queued or running simulation (reason required, audit-logged).",
    )
    async def cancel_simulation(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> CancelSimulationPayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return CancelSimulationPayload(errors=[refused])
        try:
            view = await service.cancel(str(id), admin.user_id, reason.strip())
        except service.CancelRefused as err:
            return CancelSimulationPayload(
                errors=[UserError(code=err.code, message=err.message, field="id")]
            )
        return CancelSimulationPayload(simulation=Simulation.of(view))
