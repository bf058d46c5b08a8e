"""Checkout limits: per buyer and per address, counted in Redis before the offer gate.

The buyer is read from the access token without a query (the checkout's hot path loads the
user only once the gate admitted them), so a buyer over the limit costs one Redis round trip.
"""

from core.throttling import IPRateThrottle, WindowRateThrottle

from .checkout.admission import token_user_id


class CheckoutUserThrottle(WindowRateThrottle):
    scope = "checkout_user"

    def get_key_ident(self, request, view):
        user_id = token_user_id(request)
        return str(user_id) if user_id else None


class CheckoutIPThrottle(IPRateThrottle):
    scope = "checkout_ip"
