"""The product status machine and its audit rows."""

from __future__ import annotations

from core.transitions import Workflow

from ..models import Product, ProductEvent

P = Product.Status

PRODUCT_TRANSITIONS: dict[str, set[str]] = {
    P.PENDING_REVIEW: {P.LISTED, P.REJECTED},
    P.LISTED: {P.DELISTED, P.PENDING_REVIEW},
    P.REJECTED: {P.PENDING_REVIEW},
    P.DELISTED: {P.PENDING_REVIEW},
}


PRODUCT_WORKFLOW = Workflow(Product, PRODUCT_TRANSITIONS, events=ProductEvent)


def product_transition(*, product: Product, to: str, actor=None, reason: str = "") -> Product:
    """Move ``product`` (locked by the caller) to ``to``; 409 if the table forbids it."""
    PRODUCT_WORKFLOW.check(product.status, to)
    also = ()
    if to == P.LISTED:  # what the county approved is the baseline of later price changes
        product.reviewed_price = product.price
        also = ("reviewed_price",)
    return PRODUCT_WORKFLOW.transition(product, to, actor=actor, reason=reason, update_fields=also)


def product_note(*, product: Product, actor=None, reason: str) -> None:
    """An audit row for a change that keeps the status (a withdrawn claim, say)."""
    ProductEvent.objects.create(product=product, actor=actor, from_status=product.status, to_status=product.status,
                                reason=reason)
