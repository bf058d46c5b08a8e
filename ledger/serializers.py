"""Input and output shapes of the ledger's endpoints; no logic."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.validators import phone_validator
from core.masking import mask_number

from .models import CoopMember, Posting

MONEY = {"max_digits": 14, "decimal_places": 2}
MAX_ID = 2**63 - 1
BANK_ACCOUNT_RE = re.compile(r"^[0-9]{12,30}$")
ALIPAY_RE = re.compile(r"^(1[3-9][0-9]{9}|[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24})$")


def _money():
    return serializers.DecimalField(**MONEY)


class BalanceOutput(serializers.Serializer):
    pending = _money()
    available = _money()
    paid_out = _money()
    negative = serializers.BooleanField(help_text=_("The shop owes the platform (available below zero)."))
    currency = serializers.CharField()


class EntryFilter(serializers.Serializer):
    account = serializers.ChoiceField(choices=["pending", "available"], required=False)
    kind = serializers.ChoiceField(choices=Posting.Kind.choices, required=False)
    # ``from`` and ``to`` (days, Asia/Shanghai, both included)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def to_internal_value(self, data):
        data = {key: data.get(key) for key in ("account", "kind") if data.get(key)} | {
            name: data.get(key) for key, name in (("from", "date_from"), ("to", "date_to")) if data.get(key)}
        return super().to_internal_value(data)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"to": [_("The end is before the start.")]})
        return attrs


class EntryOutput(serializers.Serializer):
    posting = serializers.CharField(source="posting.key")
    kind = serializers.CharField(source="posting.kind")
    memo = serializers.CharField(source="posting.memo")
    account = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField(help_text=_("As the shop sees it: money owed to it is positive."))
    merchant_order = serializers.IntegerField(source="merchant_order_id", allow_null=True)
    at = serializers.DateTimeField(source="posting.created_at")

    def get_account(self, entry) -> str:
        return entry.account.code.rsplit(":", 1)[-1]

    def get_amount(self, entry) -> str:
        return f"{-entry.amount + 0:.2f}"


class MemberSplitOutput(serializers.Serializer):
    member = serializers.IntegerField(allow_null=True, help_text=_("Empty: the cooperative's own money."))
    name = serializers.CharField()
    amount = _money()


class StatementRowOutput(serializers.Serializer):
    merchant_order = serializers.IntegerField(source="merchant_order_id")
    order = serializers.IntegerField(source="order_id")
    goods = _money()
    delivery = _money()
    commission = _money()
    service_fee = _money()
    refunds = _money()
    net = _money()
    members = serializers.SerializerMethodField()

    def get_members(self, row) -> dict | None:
        if row.members is None:
            return None
        return {("cooperative" if key is None else str(key)): f"{value:.2f}" for key, value in row.members.items()}


class StatementTotalsOutput(serializers.Serializer):
    goods = _money()
    delivery = _money()
    commission = _money()
    service_fee = _money()
    refunds = _money()
    net = _money()


class StatementOutput(serializers.Serializer):
    merchant = serializers.IntegerField(source="merchant.pk")
    shop_name = serializers.CharField(source="merchant.shop_name")
    month = serializers.CharField(source="month.label")
    currency = serializers.CharField()
    opening = _money()
    closing = _money()
    rows = StatementRowOutput(many=True)
    totals = StatementTotalsOutput()
    other = serializers.DictField(child=_money(), help_text=_(
        "Movements without a merchant order (adjustments, payouts), by posting kind."))
    members = MemberSplitOutput(many=True, allow_null=True)


class StatementFilter(serializers.Serializer):
    merchant = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class TotalsFilter(serializers.Serializer):
    month = serializers.CharField(max_length=7)
    county = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class CountySummaryOutput(serializers.Serializer):
    county = serializers.IntegerField()
    county_name = serializers.CharField()
    goods = _money()
    commission = _money()
    service_fees = _money()
    delivery = _money()
    refunds = _money()


class CountyTotalsOutput(CountySummaryOutput):
    """A county's month: the summary's figures, plus its shops' balances."""

    month = serializers.CharField()
    merchants_pending = _money()
    merchants_available = _money()
    currency = serializers.CharField()


class PlatformTotalsOutput(serializers.Serializer):
    month = serializers.CharField()
    goods = _money()
    commission = _money()
    provider_fees = _money()
    refunds = _money()
    refunds_payable = _money()
    payouts_in_flight = _money()
    merchants_pending = _money()
    merchants_available = _money()
    counties = CountySummaryOutput(many=True)
    currency = serializers.CharField()


# --- members ----------------------------------------------------------------------------------------

class MemberInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=11, validators=[phone_validator])
    payout_kind = serializers.ChoiceField(choices=CoopMember.PayoutKind.choices)
    payout_account = serializers.CharField(max_length=200, write_only=True)
    bank_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        kind = attrs.get("payout_kind", getattr(self.instance, "payout_kind", None))
        account = attrs.get("payout_account")
        if "payout_kind" in attrs and account is None:
            raise serializers.ValidationError({"payout_account": [_("Give the account of the new kind.")]})
        if account is not None:
            account = account.strip().replace(" ", "")
            pattern = BANK_ACCOUNT_RE if kind == CoopMember.PayoutKind.BANK else ALIPAY_RE
            if not pattern.match(account):
                message = (_("Enter the bank account number: 12 to 30 digits.") if kind == CoopMember.PayoutKind.BANK
                           else _("Enter the Alipay login: a mainland mobile number or an e-mail address."))
                raise serializers.ValidationError({"payout_account": [message]})
            attrs["payout_account"] = account
        return attrs


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()
    payout_kind = serializers.CharField()
    payout_account = serializers.SerializerMethodField(help_text=_("Masked."))
    bank_name = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def get_payout_account(self, member) -> str:
        return mask_member_account(member.payout_account)


def mask_member_account(value: str) -> str:
    if "@" in (value or ""):
        local, _at, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_number(value, keep_start=3, keep_end=4)


class ShareItem(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)


MAX_SHARES = 200  # members sharing one product or batch; a longer list is refused before it is read


class SharesInput(serializers.Serializer):
    shares = ShareItem(many=True, allow_empty=True, max_length=MAX_SHARES)


class ShareOutput(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    name = serializers.CharField(source="member.name")
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)


class LineBatchInput(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=MAX_ID, allow_null=True)
