from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.transitions import StatusEvent
from orders.models import Dispute, MerchantOrder, Order


class Payment(models.Model):
    """One attempt to pay an order through a provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        # The provider's notice disagreed with the payment (amount or currency): a person looks at it.
        FLAGGED = "flagged", _("flagged for review")
        # Paid after the order was already cancelled or paid by another payment: returned in full.
        REFUNDED = "refunded", _("refunded")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("provider"), max_length=32)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    client_params = models.JSONField(default=dict, blank=True)
    flag_reason = models.TextField(_("flag reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.provider}#{self.pk}"


class Refund(models.Model):
    """Money going back to the buyer through the provider the payment came by."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    merchant_order = models.ForeignKey(MerchantOrder, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="refunds")
    dispute = models.ForeignKey(Dispute, null=True, blank=True, on_delete=models.SET_NULL, related_name="refunds")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    provider_reference = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=Decimal("0")), name="refund_amount_positive"),
        ]


class PaymentEvent(StatusEvent):
    """Audit trail of a payment's status (who or which notice moved it, when, why)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="status_events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")


class RefundEvent(StatusEvent):
    """Audit trail of a refund's status."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("refund event")
        verbose_name_plural = _("refund events")


class WebhookEvent(models.Model):
    """Every provider notice accepted for processing, once per provider event id."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=40)
    payment = models.ForeignKey(Payment, null=True, on_delete=models.SET_NULL, related_name="events")
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("webhook event")
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")]
