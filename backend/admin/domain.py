"""The admin domain: the operators' console (pages and GraphQL) and the rollups behind it."""

from backend.admin.graphql import AdminQuery
from backend.admin.jobs import CRON_JOBS, JOBS
from backend.admin.web import ROUTES
from backend.domain import Domain

DOMAIN = Domain(
    name="admin",
    piccolo_app="backend.admin.piccolo_app",
    routes=tuple(ROUTES),
    queries=(AdminQuery,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
)
