"""What the merchants domain announces to the apps above it (core/domain_events.py), which react
without merchants importing them."""

from core.domain_events import DomainEvent

# An approved shop moved to any other status (suspended, or back to review): it may no longer sell.
# Sent inside the transaction of the change (the shop row locked, its new status saved).
merchant_stopped_selling = DomainEvent("merchants.merchant_stopped_selling",
                                       payload=("merchant_id", "actor", "reason"))

# The shop's last valid credential of ``credential_kind`` lapsed (revoked or expired): whatever
# claims rest on that kind must go. In-transaction receivers return how many products they
# withdrew, which the shop is told.
credential_lapsed = DomainEvent("merchants.credential_lapsed", payload=("merchant_id", "credential_kind", "reason"))

# The shop's display name changed: what is searched by it must follow.
merchant_renamed = DomainEvent("merchants.merchant_renamed", payload=("merchant_id",))
