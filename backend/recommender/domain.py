"""The recommender domain: picking the one tip, reactions and rewards, policies."""

from backend.contracts.privacy import Category
from backend.domain import Domain
from backend.recommender.admin_graphql import PolicyAdminMutation, PolicyAdminQuery
from backend.recommender.graphql import (
    RecommenderMutation,
    RecommenderQuery,
    RecommenderSubscription,
)
from backend.recommender.jobs import CRON_JOBS, JOBS
from backend.recommender.web import ROUTES

DOMAIN = Domain(
    name="recommender",
    piccolo_app="backend.recommender.piccolo_app",
    routes=tuple(ROUTES),
    queries=(RecommenderQuery, PolicyAdminQuery),
    mutations=(RecommenderMutation, PolicyAdminMutation),
    subscriptions=(RecommenderSubscription,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
    privacy_categories=(
        Category(
            key="tips",
            label="Tip history",
            description="Each tip oO showed you, with the features and the policy that picked it.",
            deletable=True,
            tables=(
                "recommender.served_tip",
                "profile.tip_history",
                "admin.admin_user_day",
                "admin.admin_user_totals",
            ),
            apps=("recommender",),
            order=10,
        ),
        Category(
            key="feedback",
            label="Feedback",
            description=(
                "Your done, snooze and dismiss reactions, and the items they hide for a while."
            ),
            deletable=True,
            tables=("recommender.feedback", "recommender.snooze", "recommender.recommender_outbox"),
            order=20,
        ),
    ),
)
