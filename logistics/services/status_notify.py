"""Who hears about a shipment's status change: the buyer always, the merchant where it concerns them."""

from __future__ import annotations

from notifications.services import notify

from ..models import Hub, Shipment

S = Shipment.Status

MERCHANT_CONCERNS = {S.PICKED_UP, S.DELIVERED, S.FAILED, S.RETURNED}


def _kind(prefix: str, shipment: Shipment, status: str, *, passing: bool) -> str:
    if passing:
        return f"{prefix}.in_transit"
    if status == S.FAILED:
        return f"{prefix}.failed.{shipment.failure_reason}"
    return f"{prefix}.{status}"


def shipment_status_notify(shipment: Shipment, status: str, *, hub: Hub | None, passing: bool = False) -> None:
    """Write the notices for ``status`` in the current transaction (outbox: delivered after commit).

    ``passing``: the parcel reached another hub without changing status (the origin
    township station, or the destination county's centre).
    """
    params = {
        "shipment": shipment.pk,
        "order": shipment.merchant_order.order_id,
        "merchant_order": shipment.merchant_order_id,
        "shop": shipment.merchant.shop_name,
        "hub": hub.name if hub else "",
    }
    buyer_params = dict(params)
    if status == S.OUT_FOR_DELIVERY:
        buyer_params["code"] = shipment.pickup_code
    notify(user=shipment.buyer, kind=_kind("shipment", shipment, status, passing=passing), params=buyer_params)
    if status in MERCHANT_CONCERNS and not passing:
        notify(user=shipment.merchant.user, kind=_kind("shipment.merchant", shipment, status, passing=False),
               params=params)
