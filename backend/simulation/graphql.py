"""GraphQL of the simulator (admin only): start a run, list runs, follow a run live."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError
from backend.simulation import service, store
from backend.simulation.evaluation import install_promotion_estimator
from backend.simulation.runner import DEFAULT_POLICIES, SimConfig

# The schema is imported by every process that can promote a policy (web replicas): plugging
# the off-policy estimator in here means promotion is evidence-gated wherever it can happen.
install_promotion_estimator()


@strawberry.enum
class SimulationStatus(Enum):
    """Where a run is."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@strawberry.type
class SimulationPolicyResult:
    """One policy's outcome in a finished run (definitions: backend/simulation/metrics.py)."""

    policy_id: str
    decisions: int
    mean_reward: float | None
    ci_low: float | None
    ci_high: float | None
    pct_oracle: float | None = strawberry.field(description="Mean reward ÷ the oracle's.")
    regret: float | None = strawberry.field(
        description="Mean per-decision regret in expected reward against the best candidate."
    )


@strawberry.type
class Simulation:
    """A simulation run."""

    id: strawberry.ID
    status: SimulationStatus
    source: str
    config: JSON
    summary: JSON = strawberry.field(description="Everything metrics.summarise computed.")
    done: int = strawberry.field(description="Decisions simulated so far (all policies).")
    total: int
    error: str
    events_stored: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    results: list[SimulationPolicyResult]

    @classmethod
    def of(cls, v: store.RunView) -> Simulation:
        """From a stored run."""
        policies: dict[str, Any] = v.summary.get("policies", {}) if v.summary else {}
        return cls(
            id=strawberry.ID(v.id),
            status=SimulationStatus(v.status),
            source=v.source,
            config=v.config,  # type: ignore[arg-type]
            summary=v.summary,  # type: ignore[arg-type]
            done=v.done,
            total=v.total,
            error=v.error,
            events_stored=v.events_stored,
            created_at=v.created_at,
            started_at=v.started_at,
            finished_at=v.finished_at,
            results=[
                SimulationPolicyResult(
                    policy_id=pid,
                    decisions=int(s.get("decisions", 0)),
                    mean_reward=s.get("mean_reward"),
                    ci_low=s.get("ci_low"),
                    ci_high=s.get("ci_high"),
                    pct_oracle=s.get("pct_oracle"),
                    regret=s.get("regret"),
                )
                for pid, s in policies.items()
            ],
        )


@strawberry.type
class SimulationEdge:
    """A run and its cursor."""

    cursor: str
    node: Simulation


@strawberry.type
class SimulationPageInfo:
    """Relay page info."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class SimulationConnection:
    """Runs, newest first."""

    edges: list[SimulationEdge]
    page_info: SimulationPageInfo


@strawberry.input
class StartSimulationInput:
    """What to simulate (defaults: every learning policy, all personas, 200 decisions)."""

    policies: list[str] | None = None
    personas: list[str] | None = None
    seed: int = 0
    seeds: int = 1
    users_per_persona: int = 1
    decisions: int = 200
    judge: str = "rule"
    events: str = "sample"


@strawberry.type
class StartSimulationPayload:
    """The queued run (or errors; nothing was queued then)."""

    simulation: Simulation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SimulationProgress:
    """A run's progress (the first message is its state when you subscribed)."""

    id: strawberry.ID
    status: SimulationStatus
    done: int
    total: int
    policy_id: str
    mean_reward: float | None
    error: str


@strawberry.type
class SimulationQuery:
    """Admin queries of the simulator."""

    @strawberry.field(
        permission_classes=[IsAdmin], description="Simulation runs, newest first (Relay paging)."
    )
    async def simulations(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> SimulationConnection:
        first = max(1, min(first, 100))
        views, more = await store.list_runs(first, after)
        edges = [
            SimulationEdge(cursor=store.encode_cursor(v), node=Simulation.of(v)) for v in views
        ]
        return SimulationConnection(
            edges=edges,
            page_info=SimulationPageInfo(
                has_next_page=more, end_cursor=edges[-1].cursor if edges else None
            ),
        )


@strawberry.type
class SimulationMutation:
    """Admin mutations of the simulator."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Queue a simulation run on the workers; follow it with `simulation(id)`.",
    )
    async def start_simulation(
        self, info: Info, input: StartSimulationInput | None = None
    ) -> StartSimulationPayload:
        admin = await info.context.user()
        i = input or StartSimulationInput()
        config = SimConfig(
            policies=tuple(i.policies) if i.policies else DEFAULT_POLICIES,
            personas=tuple(i.personas or ()),
            seed=i.seed,
            seeds=i.seeds,
            users_per_persona=i.users_per_persona,
            decisions=i.decisions,
            judge=i.judge,
            events=i.events,
        )
        try:
            view = await service.start(config, admin.user_id)
        except ValueError as err:
            return StartSimulationPayload(
                errors=[UserError(code="INVALID_CONFIG", message=str(err), field="input")]
            )
        return StartSimulationPayload(simulation=Simulation.of(view))


@strawberry.type
class SimulationSubscription:
    """Live progress of a run."""

    @strawberry.subscription(
        permission_classes=[IsAdmin],
        description="A run's state now, then its progress until it finishes or fails.",
    )
    async def simulation(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[SimulationProgress, None]:
        if store.parse_run_id(str(id)) is None or await store.get_run(str(id)) is None:
            raise GraphQLError("No such simulation.", extensions={"code": "NOT_FOUND"})
        async for p in service.follow(str(id)):
            yield SimulationProgress(
                id=strawberry.ID(p.run_id),
                status=SimulationStatus(p.status),
                done=p.done,
                total=p.total,
                policy_id=p.policy_id,
                mean_reward=p.mean_reward,
                error=p.error,
            )
