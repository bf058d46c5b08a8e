"""How the catalog reacts to the merchants domain's events (core/domain_events.py)."""

from core.domain_events import IN_TRANSACTION
from merchants.domain_events import credential_lapsed, merchant_renamed

from .services import products_reindex_for_merchant, products_withdraw_for_credential


@credential_lapsed.receiver(phase=IN_TRANSACTION)
def withdraw_claims_of_lapsed_credential(*, merchant_id, credential_kind, reason) -> int:
    """Claims resting on the lapsed kind are withdrawn with the lapse (one transaction)."""
    return products_withdraw_for_credential(merchant_id=merchant_id, credential_kind=credential_kind, reason=reason)


@merchant_renamed.receiver(phase=IN_TRANSACTION)
def reindex_products_of_renamed_shop(*, merchant_id) -> int:
    return products_reindex_for_merchant(merchant_id=merchant_id)
