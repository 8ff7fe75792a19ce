"""The recommender domain: picking the one tip, reactions and rewards, policies."""

from backend.contracts.privacy import Category
from backend.domain import Domain
from backend.graphql.reads import register_user_read
from backend.recommender import tip_cache
from backend.recommender.admin_graphql import PolicyAdminMutation, PolicyAdminQuery
from backend.recommender.graphql import (
    RecommenderMutation,
    RecommenderQuery,
    RecommenderSubscription,
)
from backend.recommender.jobs import CRON_JOBS, JOBS
from backend.recommender.tables import Feedback, ServedTip
from backend.recommender.web import ROUTES


async def tips_shown(user_id: str) -> int:
    """Tips actually put in front of the person (shadow policies' picks are never shown)."""
    return int(await ServedTip.count().where(ServedTip.user == user_id))


async def reactions_given(user_id: str) -> int:
    """Done, snooze and dismiss answers the person gave."""
    return int(await Feedback.count().where(Feedback.user == user_id))


def install() -> None:
    """A `tip` query's cached tip is read with the request's limits (one round trip)."""
    register_user_read("tip", tip_cache.key_head)


DOMAIN = Domain(
    name="recommender",
    install=install,
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
            description=(
                "Each tip oO showed you, what it knew at that moment and why it picked that one."
            ),
            deletable=True,
            tables=(
                "recommender.served_tip",
                "profile.tip_history",
                "admin.admin_user_day",
                "admin.admin_user_totals",
            ),
            apps=("recommender",),
            order=10,
            unit=("tip shown", "tips shown"),
            count=tips_shown,
        ),
        Category(
            key="feedback",
            label="Your answers",
            description=(
                "Each time you pressed done, snooze or dismiss, and the items a snooze hides "
                "for a while."
            ),
            deletable=True,
            tables=("recommender.feedback", "recommender.snooze", "recommender.recommender_outbox"),
            order=20,
            unit=("answer", "answers"),
            count=reactions_given,
        ),
    ),
)
