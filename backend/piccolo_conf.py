"""Piccolo configuration: the engine from settings and each domain's Piccolo app."""

from piccolo.conf.apps import AppRegistry

from backend.db import make_engine
from backend.domains import DOMAINS

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=[d.piccolo_app for d in DOMAINS if d.piccolo_app])
