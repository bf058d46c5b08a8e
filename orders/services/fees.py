"""The delivery fee of one merchant order: how far the parcel travels through the county network.

- same county as the merchant: ``ORDERS_DELIVERY_FEE_SAME_COUNTY`` (it rides the county's joint
  distribution run), free when the merchant order's items reach ``ORDERS_FREE_DELIVERY_FROM``;
- another county of the same province: ``ORDERS_DELIVERY_FEE_SAME_PROVINCE``;
- another province: ``ORDERS_DELIVERY_FEE_OTHER_PROVINCE``.
"""

from decimal import Decimal

from django.conf import settings


def delivery_fee(*, merchant_county_id: int, merchant_province: str, to_county_id: int, to_province: str,
                 items_total: Decimal) -> Decimal:
    if merchant_county_id == to_county_id:
        if items_total >= settings.ORDERS_FREE_DELIVERY_FROM:
            return Decimal("0.00")
        return settings.ORDERS_DELIVERY_FEE_SAME_COUNTY
    if merchant_province and merchant_province == to_province:
        return settings.ORDERS_DELIVERY_FEE_SAME_PROVINCE
    return settings.ORDERS_DELIVERY_FEE_OTHER_PROVINCE
