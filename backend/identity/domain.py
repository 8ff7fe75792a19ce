"""The identity domain: people, sign-in, sessions, personal tokens, the token vault."""

from backend.contracts.principal import register_authenticator
from backend.contracts.privacy import Category
from backend.domain import Domain
from backend.identity.account_web import ROUTES as ACCOUNT_ROUTES
from backend.identity.auth_web import ROUTES as AUTH_ROUTES
from backend.identity.cookies import SessionAuthenticator
from backend.identity.graphql import IdentityMutation, IdentityQuery
from backend.identity.web import ROUTES as SIGN_IN_ROUTES


def install() -> None:
    """Callers are recognised by identity's sessions and tokens."""
    register_authenticator(SessionAuthenticator())


DOMAIN = Domain(
    name="identity",
    piccolo_app="backend.identity.piccolo_app",
    routes=(*SIGN_IN_ROUTES, *AUTH_ROUTES, *ACCOUNT_ROUTES),
    queries=(IdentityQuery,),
    mutations=(IdentityMutation,),
    privacy_categories=(
        Category(
            key="account",
            label="Account and settings",
            description="Who you are, how you sign in, API tokens, consents and your contexts.",
            deletable=False,
            tables=("profile.profile_consent", "profile.profile_context"),
            apps=("identity", "privacy"),
            order=50,
        ),
    ),
    install=install,
)
