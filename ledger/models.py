"""The double-entry ledger: accounts, postings and their entries, and each merchant order's settlement.

An *entry* moves a signed amount on one account: debits are positive, credits negative. A
*posting* is one money event (a payment, a refund, a release, a payout) and its entries; every
posting sums to zero, so the whole ledger always sums to zero. Postings and entries are never
updated or deleted: the database refuses it (triggers in migration 0001), and a deferred
constraint trigger refuses, at commit, a posting whose entries do not sum to zero. A mistake is
corrected by a new posting (an admin adjustment), never by editing an old one.

Balances are read as sums of entries (an index on ``(account, posting)``): no balance column is
updated on every payment, so the platform's accounts (commission, cash) never become one hot row
that every paid webhook must wait for. docs/ledger.md has the chart of accounts and every
posting's legs.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant
from orders.models import MerchantOrder
from regions.models import Region

AMOUNT = {"max_digits": 14, "decimal_places": 2}


class Account(models.Model):
    """One account of the chart (docs/ledger.md), created the first time a posting names it."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("asset")
        LIABILITY = "liability", _("liability")
        REVENUE = "revenue", _("revenue")
        EXPENSE = "expense", _("expense")

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("merchant"))
    county = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("county"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")

    def __str__(self):
        return self.code


class Posting(models.Model):
    """One money event and its balanced entries, written once (``key`` makes a replay a no-op)."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("payment received")
        REFUND = "refund", _("refund booked")
        REFUND_PAID = "refund_paid", _("refund paid out by the provider")
        RELEASE = "release", _("merchant's share released")
        PAYOUT_SENT = "payout_sent", _("payout sent")
        PAYOUT_PAID = "payout_paid", _("payout paid")
        PAYOUT_FAILED = "payout_failed", _("payout failed and returned")
        ADJUSTMENT = "adjustment", _("manual adjustment")

    key = models.CharField(_("key"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, db_index=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("merchant"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")

    def __str__(self):
        return self.key


class Entry(models.Model):
    """One leg of a posting: a signed amount (debit +, credit −) on one account."""

    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    # The merchant order the money belongs to, if any: statements read it.
    merchant_order = models.ForeignKey(MerchantOrder, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")

    class Meta:
        ordering = ["pk"]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        constraints = [models.CheckConstraint(condition=~models.Q(amount=Decimal("0")), name="entry_not_zero")]
        indexes = [models.Index(fields=["account", "posting"], name="ledger_entry_account_idx"),
                   models.Index(fields=["merchant_order", "account"], name="ledger_entry_mo_idx")]


class Settlement(models.Model):
    """Where one paid merchant order's money stands for its merchant (docs/ledger.md, "Settlement").

    ``pending`` from the payment; ``available`` once it is released (completed, no active dispute,
    the return window passed); ``closed`` when nothing was left to release (refunded in full)."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        AVAILABLE = "available", _("available")
        CLOSED = "closed", _("closed")

    merchant_order = models.OneToOneField(MerchantOrder, primary_key=True, on_delete=models.PROTECT,
                                          related_name="settlement")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="settlements")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    goods = models.DecimalField(_("goods"), **AMOUNT)
    delivery = models.DecimalField(_("delivery"), **AMOUNT)
    commission = models.DecimalField(_("commission"), **AMOUNT)
    service_fee = models.DecimalField(_("county service fee"), **AMOUNT)
    # The merchant's share of the goods refunded so far (what reversals of commission are measured on).
    goods_refunded = models.DecimalField(_("goods refunded"), **AMOUNT, default=Decimal("0"))
    delivery_refunded = models.DecimalField(_("delivery refunded"), **AMOUNT, default=Decimal("0"))
    paid_at = models.DateTimeField(_("paid"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        ordering = ["-paid_at"]
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        indexes = [models.Index(fields=["state", "merchant"], name="ledger_settlement_state_idx")]

    def __str__(self):
        return f"#{self.merchant_order_id} {self.state}"


class Adjustment(models.Model):
    """An admin's correction of a merchant's available balance: the audit row of its posting."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="ledger_adjustments",
                                 verbose_name=_("merchant"))
    amount = models.DecimalField(_("amount"), **AMOUNT,
                                 help_text=_("Positive: owed to the merchant; negative: owed by it."))
    reason = models.CharField(_("reason"), max_length=300)
    posting = models.OneToOneField(Posting, on_delete=models.PROTECT, related_name="adjustment")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")


class NegativeBalance(models.Model):
    """A merchant whose available balance went below zero (a refund after payout), since when; the
    flag sweep tells the admins of the ones that stay negative (docs/ledger.md)."""

    merchant = models.OneToOneField(Merchant, primary_key=True, on_delete=models.PROTECT,
                                    related_name="negative_balance")
    since = models.DateTimeField(_("negative since"))
    amount = models.DecimalField(_("balance"), **AMOUNT)
    flagged_at = models.DateTimeField(_("flagged to admins"), null=True, blank=True)

    class Meta:
        ordering = ["since"]
        verbose_name = _("negative balance")
        verbose_name_plural = _("negative balances")
