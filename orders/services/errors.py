"""The refusals of the order services (all render through core's envelope)."""

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, ValidationFailed


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("Not enough stock left for this product.")


class SoldOut(Conflict):
    code = "sold_out"
    default_message = _("This offer is sold out.")


class OverBuyerLimit(Conflict):
    code = "over_buyer_limit"
    default_message = _("You have reached the per-buyer limit of this offer.")


class OfferNotLive(Conflict):
    code = "offer_not_live"
    default_message = _("This offer is not live any more.")


class PaymentWindowClosed(Conflict):
    code = "payment_window_closed"
    default_message = _("The payment window of this order has closed.")


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"
    default_message = _("A refund cannot exceed what was paid minus earlier refunds.")


class EmptyCart(ValidationFailed):
    code = "empty_cart"
    default_message = _("Your cart is empty.")


class PendingLimitReached(Conflict):
    code = "pending_limit"
    default_message = _("You hold too much in unpaid orders; pay or cancel one first.")
