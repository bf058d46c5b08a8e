"""Paying merchants out: where the money goes (payout accounts, verified by the county), each payout
and its status, and the weekly batches (docs/payouts.md).

A payout moves a merchant's *available* money (the ledger) to the merchant's bank card or Alipay
account through a payout provider. The account number is sealed at rest (core/sealing.py) and only
ever shown masked.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.masking import mask_name, mask_phone
from core.sealing import SealedCharField
from core.transitions import StatusEvent
from merchants.models import Merchant

AMOUNT = {"max_digits": 14, "decimal_places": 2}


def mask_account_number(kind: str, number: str) -> str:
    """``6222021234567891234`` -> ``6222 **** **** 1234``; ``13800001234`` -> ``138****1234``;
    ``farmer@example.com`` -> ``f*****@example.com``."""
    number = number or ""
    if kind == PayoutAccount.Kind.BANK:
        return f"{number[:4]} **** **** {number[-4:]}" if len(number) >= 8 else mask_phone(number)
    if "@" in number:
        local, _at, domain = number.partition("@")
        return f"{mask_name(local)}@{domain}"
    return mask_phone(number)


class PayoutAccount(models.Model):
    """One version of where a merchant's payouts go. A change writes a new version (``unverified``)
    and supersedes the older ones: no payout is sent until the county operator verified it, and the
    previous account is never used again (docs/payouts.md, "Accounts")."""

    class Kind(models.TextChoices):
        BANK = "bank", _("bank account")
        ALIPAY = "alipay", _("Alipay")

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("waiting for the county's verification")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")
        SUPERSEDED = "superseded", _("replaced by a newer account")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="payout_accounts",
                                 verbose_name=_("merchant"))
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    holder_name = models.CharField(_("account holder"), max_length=50)
    bank_name = models.CharField(_("bank"), max_length=60, blank=True)
    # The bank account number or the Alipay login (a mobile number or an email), sealed at rest.
    number = SealedCharField(_("account number or login"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UNVERIFIED,
                              db_index=True)
    reject_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("changed by"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("reviewed by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")
        constraints = [models.UniqueConstraint(fields=["merchant", "version"], name="payout_account_version_once")]

    def __str__(self):
        return f"{self.merchant_id} v{self.version} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.kind, self.number)


class PayoutAccountEvent(StatusEvent):
    """Audit trail of a payout account version: written, verified, rejected, superseded."""

    account = models.ForeignKey(PayoutAccount, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("payout account event")
        verbose_name_plural = _("payout account events")


class PayoutBatch(models.Model):
    """One run of the scheduled payout build: the payouts it opened."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    payout_count = models.PositiveIntegerField(_("payouts"), default=0)
    total = models.DecimalField(_("total"), **AMOUNT, default=Decimal("0"))

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")

    def __str__(self):
        return f"#{self.pk} {self.started_at:%Y-%m-%d}"


class Payout(models.Model):
    """Money on its way from a merchant's available balance to its verified payout account."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    IN_PROGRESS = (Status.PENDING, Status.SENT)

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="payouts",
                                 verbose_name=_("merchant"))
    account = models.ForeignKey(PayoutAccount, on_delete=models.PROTECT, related_name="payouts",
                                verbose_name=_("payout account"))
    batch = models.ForeignKey(PayoutBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts",
                              verbose_name=_("batch"))
    retry_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="retry",
                                    verbose_name=_("retry of"))
    amount = models.DecimalField(_("amount"), **AMOUNT)
    provider = models.CharField(_("provider"), max_length=32)
    # Our request id at the provider (Alipay's out_biz_no): a transfer sent twice is made once.
    request_id = models.UUIDField(_("request id"), default=uuid.uuid4, unique=True, editable=False)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("transfer calls"), default=0)
    last_error = models.TextField(_("last transfer error"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted by the provider"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=Decimal("0")), name="payout_amount_positive"),
            # At most one payout on its way per merchant (the services check it under the merchant's lock).
            models.UniqueConstraint(fields=["merchant"], condition=models.Q(status__in=["pending", "sent"]),
                                    name="payout_one_in_progress"),
        ]
        indexes = [models.Index(fields=["status", "sent_at"], name="payout_status_sent_idx")]

    def __str__(self):
        return f"payout #{self.pk}"


class PayoutEvent(StatusEvent):
    """Audit trail of a payout's status (who, which callback or query moved it, when, why)."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("payout event")
        verbose_name_plural = _("payout events")
