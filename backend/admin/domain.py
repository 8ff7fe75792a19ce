"""The admin domain: the operators' console (pages and GraphQL) and the rollups behind it."""

from backend.admin.actions_graphql import AdminActionMutation
from backend.admin.decisions_graphql import DecisionQuery
from backend.admin.features_graphql import FeatureQuery
from backend.admin.graphql import AdminQuery
from backend.admin.health_graphql import HealthQuery, HealthSubscription
from backend.admin.jobs import CRON_JOBS, JOBS
from backend.admin.live_web import ROUTES as LIVE_ROUTES
from backend.admin.ml_graphql import MlConsoleMutation, MlConsoleQuery
from backend.admin.ml_web import ROUTES as ML_ROUTES
from backend.admin.policies_web import ROUTES as POLICY_ROUTES
from backend.admin.rewards_graphql import RewardQuery
from backend.admin.simulations_web import ROUTES as SIMULATION_ROUTES
from backend.admin.web import ROUTES
from backend.domain import Domain

DOMAIN = Domain(
    name="admin",
    piccolo_app="backend.admin.piccolo_app",
    routes=(*ROUTES, *LIVE_ROUTES, *ML_ROUTES, *POLICY_ROUTES, *SIMULATION_ROUTES),
    queries=(AdminQuery, HealthQuery, DecisionQuery, FeatureQuery, RewardQuery, MlConsoleQuery),
    mutations=(AdminActionMutation, MlConsoleMutation),
    subscriptions=(HealthSubscription,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
)
