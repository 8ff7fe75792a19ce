"""The admin domain: the console's home; today its Piccolo app holds the audit log."""

from backend.domain import Domain

DOMAIN = Domain(name="admin", piccolo_app="backend.admin.piccolo_app")
