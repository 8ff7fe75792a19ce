"""The notifier domain's declaration: empty for now; Web Push fills in its parts."""

from backend.domain import Domain

DOMAIN = Domain(name="notifier")
