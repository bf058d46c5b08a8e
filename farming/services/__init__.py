"""Adoption and pre-sale services, one module per flow; import from here."""

from .adoptions import (  # noqa: F401
    adoption_adopt,
    adoption_create,
    adoption_update_post,
    deliveries_due_create,
    subscription_cancel,
    subscriptions_settle,
)
