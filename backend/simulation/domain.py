"""The simulation domain: personas, simulated runs, off-policy evaluation."""

from backend.domain import Domain
from backend.simulation.graphql import SimulationMutation, SimulationQuery, SimulationSubscription
from backend.simulation.jobs import CRON_JOBS, JOBS

DOMAIN = Domain(
    name="simulation",
    piccolo_app="backend.simulation.piccolo_app",
    queries=(SimulationQuery,),
    mutations=(SimulationMutation,),
    subscriptions=(SimulationSubscription,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
)
