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
    # Indexed by the two composite indexes below (their first column): no single-column index, one
    # index fewer to update per entry (bench/ledger.py).
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    # The merchant order the money belongs to, if any: statements read it.
    merchant_order = models.ForeignKey(MerchantOrder, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", db_index=False)

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


# --- cooperative members and their shares (docs/ledger.md, "Cooperative members") -----------------

from accounts.validators import phone_validator  # noqa: E402
from catalog.models import HarvestBatch, Product  # noqa: E402
from core.sealing import SealedCharField  # noqa: E402
from orders.models import OrderLine  # noqa: E402

PERCENT = {"max_digits": 5, "decimal_places": 2}


class CoopMember(models.Model):
    """A member household of a cooperative shop: who it is and where its money is paid.

    The payout account (a bank account number or an Alipay login) is sealed at rest
    (core/sealing.py) and shown masked. A member with shares is never deleted, only deactivated,
    so the statements that split money to it keep their row."""

    class PayoutKind(models.TextChoices):
        BANK = "bank", _("bank account")
        ALIPAY = "alipay", _("Alipay account")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="coop_members",
                                 verbose_name=_("cooperative"))
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=11, validators=[phone_validator])
    payout_kind = models.CharField(_("payout account kind"), max_length=8, choices=PayoutKind.choices)
    payout_account = SealedCharField(_("payout account"))
    bank_name = models.CharField(_("bank"), max_length=60, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("cooperative member")
        verbose_name_plural = _("cooperative members")
        indexes = [models.Index(fields=["merchant", "active"], name="ledger_member_merchant_idx")]

    def __str__(self):
        return self.name


class MemberShare(models.Model):
    """A member's share, in percent, of the money of one product or of one harvest batch; the shares
    of one product (or batch) sum to exactly 100 (written together by ledger.members)."""

    member = models.ForeignKey(CoopMember, on_delete=models.PROTECT, related_name="shares",
                               verbose_name=_("member"))
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    batch = models.ForeignKey(HarvestBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("harvest batch"))
    percent = models.DecimalField(_("share (%)"), **PERCENT)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("member share")
        verbose_name_plural = _("member shares")
        constraints = [
            models.CheckConstraint(condition=models.Q(product__isnull=False, batch__isnull=True)
                                   | models.Q(product__isnull=True, batch__isnull=False),
                                   name="member_share_product_or_batch"),
            models.CheckConstraint(condition=models.Q(percent__gt=0, percent__lte=100),
                                   name="member_share_percent_range"),
            models.UniqueConstraint(fields=["member", "product"], condition=models.Q(product__isnull=False),
                                    name="member_share_once_per_product"),
            models.UniqueConstraint(fields=["member", "batch"], condition=models.Q(batch__isnull=False),
                                    name="member_share_once_per_batch"),
        ]


class LineBatch(models.Model):
    """Which harvest batch an order line was packed from, as the cooperative records it; a line
    with a batch is split by the batch's shares (before the product's)."""

    line = models.OneToOneField(OrderLine, primary_key=True, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(HarvestBatch, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("harvest batch"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("line's harvest batch")
        verbose_name_plural = _("lines' harvest batches")


class ReconciliationRun(models.Model):
    """One provider settlement file (one day) matched against the ledger (ledger/reconciliation.py)."""

    provider = models.CharField(_("provider"), max_length=32)
    day = models.DateField(_("day"))
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    provider_rows = models.PositiveIntegerField(_("provider transactions"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    mismatched = models.PositiveIntegerField(_("mismatches"), default=0)
    provider_total = models.DecimalField(_("provider net"), **AMOUNT, default=Decimal("0"))
    ledger_total = models.DecimalField(_("ledger net"), **AMOUNT, default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-pk"]
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")

    def __str__(self):
        return f"{self.provider} {self.day}"


class Mismatch(models.Model):
    """One thing the provider's file and the ledger disagree on, for an admin to look at."""

    class Kind(models.TextChoices):
        MISSING_IN_LEDGER = "missing_in_ledger", _("in the provider's file, not in the ledger")
        MISSING_AT_PROVIDER = "missing_at_provider", _("in the ledger, not in the provider's file")
        AMOUNT_DIFFERS = "amount_differs", _("amount differs")
        FEE_DIFFERS = "fee_differs", _("fee differs")
        CURRENCY_DIFFERS = "currency_differs", _("currency differs")

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, db_index=True)
    key = models.CharField(_("ledger key"), max_length=80, db_index=True)
    transaction_id = models.CharField(_("provider transaction"), max_length=64, blank=True)
    provider_amount = models.DecimalField(_("provider amount"), **AMOUNT, null=True, blank=True)
    ledger_amount = models.DecimalField(_("ledger amount"), **AMOUNT, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["run", "kind", "key"]
        verbose_name = _("reconciliation mismatch")
        verbose_name_plural = _("reconciliation mismatches")
