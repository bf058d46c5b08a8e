"""A paid demo order (paid through the sandbox's signed notice, as a buyer's payment is), if the
catalog has listed products (nothing otherwise). Idempotent. Seeded here, after orders: paying is
this app's business."""

from django.db import transaction

from accounts.models import Role, User
from catalog.models import Product
from orders.checkout.plan import CheckoutAddress, CheckoutLine, order_create
from orders.models import Order

from .providers.sandbox import sandbox_notice
from .services import payment_create, webhook_handle
from .signature import HEADER, sign


def demo_pay(order: Order) -> str:
    """Pay ``order`` the way a buyer does: open the payment, then the sandbox's signed notice."""
    payment = payment_create(buyer=order.buyer, order_id=order.pk, provider_name="sandbox")
    body = sandbox_notice(payment=payment)
    return webhook_handle(provider_name="sandbox", headers={HEADER: sign(body)}, body=body)


def demo_order(*, buyer, product, quantity: int) -> Order:
    return order_create(buyer=buyer, lines=[CheckoutLine(product_id=product.pk, quantity=quantity)],
                        address=CheckoutAddress(village_id=product.merchant.village_id, detail="村委会旁 2 号",
                                                recipient="张三", phone="13800138000"))


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
        order = demo_order(buyer=buyer, product=product, quantity=2)
    demo_pay(order)
    report.record(order, True)
