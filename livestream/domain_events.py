"""What the live room announces to the apps above it (core/domain_events.py)."""

from core.domain_events import DomainEvent

# A flash offer went live (its units set aside from the product's stock), or ended (its unsold
# units handed back). Sent inside the transaction of the change; orders keeps its Redis gate,
# which refuses sold-out buyers early, in step after the commit.
offer_opened = DomainEvent("livestream.offer_opened", payload=("offer_id",))
offer_closed = DomainEvent("livestream.offer_closed", payload=("offer_id",))
