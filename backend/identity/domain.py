"""The identity domain: people, sign-in, sessions, personal tokens, the token vault."""

from backend.contracts.principal import register_authenticator
from backend.contracts.privacy import Category
from backend.domain import Domain
from backend.graphql.reads import register_caller_read
from backend.identity.account_web import ROUTES as ACCOUNT_ROUTES
from backend.identity.auth_web import ROUTES as AUTH_ROUTES
from backend.identity.cookies import SessionAuthenticator
from backend.identity.graphql import IdentityMutation, IdentityQuery
from backend.identity.principal_cache import generation_head
from backend.identity.web import ROUTES as SIGN_IN_ROUTES


def install() -> None:
    """Callers are recognised by identity's sessions and tokens; the caller's generation comes
    with every operation's round trip, to vouch for a cached principal (ADR 0043)."""
    register_authenticator(SessionAuthenticator())
    register_caller_read(generation_head)


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
