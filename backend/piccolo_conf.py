"""Piccolo configuration: the engine from settings and one Piccolo app per domain."""

from piccolo.conf.apps import AppRegistry

from backend.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.identity.piccolo_app",
        "backend.integrations.piccolo_app",
        "backend.recommender.piccolo_app",
        "backend.privacy.piccolo_app",
        "backend.admin.piccolo_app",
        "backend.profile.piccolo_app",
        "backend.llm.piccolo_app",
        "backend.simulation.piccolo_app",
    ]
)
