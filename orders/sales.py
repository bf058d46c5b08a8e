"""A stream's paid sales, read for the live room's totals (``livestream.selectors.stream_totals``)."""

from decimal import Decimal

from django.db.models import Count, Sum

from livestream.selectors import stream_sales_reader_register

from .models import MerchantOrder, Order, OrderLine


def stream_sales(*, stream_id: int, merchant_id: int) -> dict:
    """Orders, units and takings of the stream's own shop from orders placed in it, paid and not
    cancelled or refunded: an unpaid order, or one paid and then refunded, never counts."""
    sales = (
        OrderLine.objects.filter(
            merchant_order__order__stream_id=stream_id,
            merchant_order__merchant_id=merchant_id,
            merchant_order__order__status__in=[Order.Status.PAID, Order.Status.COMPLETED],
        )
        .exclude(merchant_order__status__in=[MerchantOrder.Status.CANCELLED, MerchantOrder.Status.REFUNDED])
        .aggregate(units=Sum("quantity"), gmv=Sum("line_total"), orders=Count("merchant_order__order_id", distinct=True))
    )
    return {"orders": sales["orders"] or 0, "units": sales["units"] or 0,
            "gmv": (sales["gmv"] or Decimal("0")).quantize(Decimal("0.01"))}


stream_sales_reader_register(stream_sales)
