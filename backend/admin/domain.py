"""The admin domain: the operators' console (its GraphQL today; pages next) and its rollups."""

from backend.admin.graphql import AdminQuery
from backend.admin.jobs import CRON_JOBS, JOBS
from backend.domain import Domain

DOMAIN = Domain(
    name="admin",
    piccolo_app="backend.admin.piccolo_app",
    queries=(AdminQuery,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
)
