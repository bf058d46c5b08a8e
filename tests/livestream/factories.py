"""Orders as the orders app will make them, for the stream totals (only the skeleton's models)."""

from decimal import Decimal

from django.utils import timezone

from orders.models import MerchantOrder, Order, OrderLine
from tests.factories import ConsumerFactory


def paid_order(*, stream, product, quantity: int, unit_price: str, status: str = "paid") -> Order:
    total = Decimal(unit_price) * quantity
    order = Order.objects.create(
        buyer=ConsumerFactory(), status=status, items_total=total, total=total, village=product.origin,
        address_detail="1号", recipient="王小明", recipient_phone="13800001234", stream=stream,
        payment_deadline=timezone.now(), paid_at=timezone.now() if status == "paid" else None,
    )
    merchant_order = MerchantOrder.objects.create(
        order=order, merchant=product.merchant, status="paid" if status == "paid" else "cancelled",
        items_total=total, total=total)
    OrderLine.objects.create(merchant_order=merchant_order, product=product, title=product.title,
                             unit=product.unit, unit_price=Decimal(unit_price), quantity=quantity, line_total=total)
    return order
