from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.transitions import StatusEvent
from merchants.models import Merchant
from regions.models import Region

MONEY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0.00")}


class Order(models.Model):
    """What a consumer bought in one checkout; split into one merchant order per shop."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("pending payment")
        PAID = "paid", _("paid")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT,
                              db_index=True)
    items_total = models.DecimalField(_("items total"), **MONEY)
    delivery_total = models.DecimalField(_("delivery total"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    # Delivery address, copied at checkout.
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    address_detail = models.CharField(_("address"), max_length=200)
    recipient = models.CharField(_("recipient"), max_length=50)
    recipient_phone = models.CharField(_("recipient phone"), max_length=11)
    stream = models.ForeignKey("livestream.Stream", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="orders")
    payment_deadline = models.DateTimeField(_("pay by"), db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return f"#{self.pk}"


class MerchantOrder(models.Model):
    """The part of an order one merchant ships."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("pending payment")
        PAID = "paid", _("paid")
        SHIPPED = "shipped", _("shipped")
        DELIVERED = "delivered", _("delivered")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        REFUNDING = "refunding", _("refunding")
        REFUNDED = "refunded", _("refunded")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="merchant_orders")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="merchant_orders")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT,
                              db_index=True)
    items_total = models.DecimalField(_("items total"), **MONEY)
    delivery_fee = models.DecimalField(_("delivery fee"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), **MONEY)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-order__created_at", "-pk"]
        verbose_name = _("merchant order")
        verbose_name_plural = _("merchant orders")
        constraints = [
            models.CheckConstraint(condition=models.Q(refunded_amount__lte=models.F("total")),
                                   name="refund_never_exceeds_total"),
        ]
        indexes = [models.Index(fields=["merchant", "status"])]


class OrderLine(models.Model):
    """A snapshot of what was bought, so later product edits never rewrite history."""

    merchant_order = models.ForeignKey(MerchantOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey("livestream.Offer", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="lines")
    title = models.CharField(max_length=80)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    claims = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["pk"]


class OrderEvent(StatusEvent):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")


class MerchantOrderEvent(StatusEvent):
    merchant_order = models.ForeignKey(MerchantOrder, on_delete=models.CASCADE, related_name="events")
