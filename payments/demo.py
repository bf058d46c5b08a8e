"""A paid demo order (paid through the sandbox), if the catalog has listed products (nothing
otherwise). Idempotent. Seeded here, after orders: paying is this app's business."""

from django.db import transaction

from accounts.models import Role, User
from catalog.models import Product
from orders.checkout.plan import CheckoutAddress, CheckoutLine, order_create
from orders.models import Order
from orders.services.lifecycle import order_mark_paid

from .models import Payment


def seed(report) -> None:
    product = (Product.objects.filter(status=Product.Status.LISTED, stock__gte=2, merchant__status="approved")
               .select_related("merchant").order_by("pk").first())
    if product is None:
        report.note("payments: no listed products yet; no demo order")
        return
    buyer, created = User.objects.get_or_create(username="demo-buyer", defaults={
        "role": Role.CONSUMER, "phone": "13800138000", "last_name": "张", "first_name": "三"})
    if created:
        buyer.set_password("demo-buyer-pass")
        buyer.save(update_fields=["password"])
    report.record(buyer, created)
    existing = Order.objects.filter(buyer=buyer).first()
    if existing is not None:
        report.record(existing, False)
        return
    with transaction.atomic():
        order = order_create(buyer=buyer, lines=[CheckoutLine(product_id=product.pk, quantity=2)],
                             address=CheckoutAddress(village_id=product.merchant.village_id, detail="村委会旁 2 号",
                                                  recipient="张三", phone="13800138000"))
        order = Order.objects.select_for_update().get(pk=order.pk)
        Payment.objects.create(order=order, provider="sandbox", amount=order.total, status=Payment.Status.SUCCEEDED,
                               provider_reference="sbx_demo")
        order_mark_paid(order=order)
    report.record(order, True)
