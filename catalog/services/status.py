"""The product status machine and its audit rows."""

from __future__ import annotations

from core.transitions import ensure_transition

from ..models import Product, ProductEvent

P = Product.Status

PRODUCT_TRANSITIONS: dict[str, set[str]] = {
    P.PENDING_REVIEW: {P.LISTED, P.REJECTED},
    P.LISTED: {P.DELISTED, P.PENDING_REVIEW},
    P.REJECTED: {P.PENDING_REVIEW},
    P.DELISTED: {P.PENDING_REVIEW},
}


def product_transition(*, product: Product, to: str, actor=None, reason: str = "") -> Product:
    """Move ``product`` (locked by the caller) to ``to``; 409 if the table forbids it."""
    ensure_transition(PRODUCT_TRANSITIONS, product.status, to)
    ProductEvent.objects.create(product=product, actor=actor, from_status=product.status, to_status=to, reason=reason)
    product.status = to
    fields = ["status", "updated_at"]
    if to == P.LISTED:  # what the county approved is the baseline of later price changes
        product.reviewed_price = product.price
        fields.append("reviewed_price")
    product.save(update_fields=fields)
    return product


def product_note(*, product: Product, actor=None, reason: str) -> None:
    """An audit row for a change that keeps the status (a withdrawn claim, say)."""
    ProductEvent.objects.create(product=product, actor=actor, from_status=product.status, to_status=product.status,
                                reason=reason)
