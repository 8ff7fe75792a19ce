"""The admin domain: the operators' console (pages and GraphQL) and the rollups behind it."""

from backend.admin.actions_graphql import AdminActionMutation
from backend.admin.decisions_graphql import DecisionQuery
from backend.admin.features_graphql import FeatureQuery, FreshnessQuery
from backend.admin.graphql import AdminQuery
from backend.admin.health_graphql import HealthQuery, HealthSubscription
from backend.admin.jobs import CRON_JOBS, JOBS
from backend.admin.live_web import ROUTES as LIVE_ROUTES
from backend.admin.llm_graphql import LlmQualityQuery
from backend.admin.ml_graphql import MlConsoleMutation, MlConsoleQuery
from backend.admin.ml_web import ROUTES as ML_ROUTES
from backend.admin.policies_web import ROUTES as POLICY_ROUTES
from backend.admin.quality_graphql import QualityQuery
from backend.admin.quality_web import ROUTES as QUALITY_ROUTES
from backend.admin.rewards_graphql import RewardQuery
from backend.admin.simulations_web import ROUTES as SIMULATION_ROUTES
from backend.admin.sql_graphql import SqlMutation, SqlQuery
from backend.admin.sql_web import ROUTES as SQL_ROUTES
from backend.admin.web import ROUTES
from backend.domain import Domain

DOMAIN = Domain(
    name="admin",
    piccolo_app="backend.admin.piccolo_app",
    routes=(
        *ROUTES,
        *LIVE_ROUTES,
        *ML_ROUTES,
        *POLICY_ROUTES,
        *SIMULATION_ROUTES,
        *QUALITY_ROUTES,
        *SQL_ROUTES,
    ),
    queries=(
        AdminQuery,
        HealthQuery,
        DecisionQuery,
        FeatureQuery,
        FreshnessQuery,
        RewardQuery,
        MlConsoleQuery,
        QualityQuery,
        LlmQualityQuery,
        SqlQuery,
    ),
    mutations=(AdminActionMutation, MlConsoleMutation, SqlMutation),
    subscriptions=(HealthSubscription,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
)
