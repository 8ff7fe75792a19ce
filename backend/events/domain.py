"""The event bus's face: the `events` subscription (live tail of a person's events)."""

from backend.domain import Domain
from backend.events.graphql import EventsSubscription

DOMAIN = Domain(name="events", subscriptions=(EventsSubscription,))
