from decimal import Decimal

from django.db import models
from django.utils import timezone
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


class SandboxTransaction(models.Model):
    """The sandbox provider's own record of what it charged and refunded: the stand-in for the
    outside world's books, not ours.

    Only ``payments/providers/sandbox.py`` reads or writes it. It answers the sandbox's payment
    queries and is what its settlement file is made of, so both come from what the "provider" did,
    never from our ``Payment`` and ``Refund`` rows (which is what reconciling them against each
    other needs). No foreign keys to our tables for the same reason: a provider knows our ids only
    as the out-trade-no and out-refund-no we sent it. Real providers keep this on their side."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("payment")
        REFUND = "refund", _("refund")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    payment_id = models.BigIntegerField(_("out trade no"), db_index=True)
    refund_id = models.BigIntegerField(_("out refund no"), null=True, blank=True)
    reference = models.CharField(_("provider reference"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    fee = models.DecimalField(_("fee"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    # When the sandbox completed it (paid, failed, refunded); a settlement file's day is taken from it.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("sandbox transaction")
        verbose_name_plural = _("sandbox transactions")
        constraints = [
            # One trade per out-trade-no and one refund per out-refund-no, as at a real provider.
            models.UniqueConstraint(fields=["payment_id"], condition=models.Q(kind="payment"),
                                    name="sandbox_one_trade_per_payment"),
            models.UniqueConstraint(fields=["refund_id"], condition=models.Q(kind="refund"),
                                    name="sandbox_one_refund_per_refund_id"),
            models.CheckConstraint(condition=models.Q(kind="payment", refund_id__isnull=True)
                                   | models.Q(kind="refund", refund_id__isnull=False),
                                   name="sandbox_refund_id_iff_refund"),
        ]

    def __str__(self):
        return f"{self.kind} {self.reference}"


class ChannelExchange(models.Model):
    """Every call to a payment channel and every notice it sent us, with secrets redacted: what
    support reads when a buyer says "I paid" (payments/providers/channel.py writes it)."""

    class Direction(models.TextChoices):
        OUT = "out", _("our call and its answer")
        IN = "in", _("the channel's notice")

    provider = models.CharField(_("provider"), max_length=32)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    operation = models.CharField(_("operation"), max_length=120)
    payment_id = models.BigIntegerField(_("payment"), null=True, blank=True, db_index=True)
    refund_id = models.BigIntegerField(_("refund"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    request = models.JSONField(_("request"), default=dict, blank=True)
    response = models.JSONField(_("answer"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("channel exchange")
        verbose_name_plural = _("channel exchanges")

    def __str__(self):
        return f"{self.provider} {self.operation}"


class WechatPayCertificate(models.Model):
    """A WeChat Pay platform certificate, downloaded from ``GET /v3/certificates`` (WeChat Pay API
    v3, "下载平台证书"): its public key checks the channel's answers and notices. Several are valid
    at once while WeChat Pay rotates them; a notice names the one it was signed with (``Wechatpay-Serial``)."""

    serial_no = models.CharField(_("serial number"), max_length=64, unique=True)
    pem = models.TextField(_("certificate (PEM)"))
    effective_at = models.DateTimeField(_("effective from"))
    expires_at = models.DateTimeField(_("expires at"))
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-effective_at"]
        verbose_name = _("WeChat Pay platform certificate")
        verbose_name_plural = _("WeChat Pay platform certificates")

    def __str__(self):
        return self.serial_no
