"""Shapes of the payouts API (the rules live in services.py). Account numbers only ever leave masked."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Payout, PayoutAccount


class PayoutAccountInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PayoutAccount.Kind.choices)
    holder_name = serializers.CharField(max_length=50, trim_whitespace=True)
    bank_name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    account_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                           trim_whitespace=False, help_text=_("bank: 12 to 30 digits, no spaces"))
    alipay_login = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                         help_text=_("alipay: a mainland mobile number or an email address"))


class PayoutAccountOutput(serializers.ModelSerializer):
    number = serializers.CharField(source="masked_number", read_only=True,
                                   help_text=_("the account number or Alipay login, masked"))
    payouts_on_hold = serializers.SerializerMethodField()

    class Meta:
        model = PayoutAccount
        fields = ["id", "version", "kind", "holder_name", "bank_name", "number", "status", "reject_reason",
                  "payouts_on_hold", "created_at", "reviewed_at"]

    def get_payouts_on_hold(self, account) -> bool:
        return account.status != PayoutAccount.Status.VERIFIED


class CountyPayoutAccountOutput(PayoutAccountOutput):
    merchant = serializers.SerializerMethodField()

    class Meta(PayoutAccountOutput.Meta):
        fields = [*PayoutAccountOutput.Meta.fields, "merchant"]

    def get_merchant(self, account) -> dict:
        return {"id": account.merchant_id, "shop_name": account.merchant.shop_name}


class CountyPayoutAccountFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=PayoutAccount.Status.choices, required=False)


class PayoutAccountRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class PayoutRequestInput(serializers.Serializer):
    # Read as given (a string or a number) and checked by the service: two places, positive, ≥ the minimum.
    amount = serializers.JSONField(help_text=_("yuan, e.g. \"120.50\""))


class PayoutAccountSummary(serializers.ModelSerializer):
    number = serializers.CharField(source="masked_number", read_only=True)

    class Meta:
        model = PayoutAccount
        fields = ["id", "version", "kind", "holder_name", "bank_name", "number"]


class PayoutOutput(serializers.ModelSerializer):
    account = PayoutAccountSummary(read_only=True)

    class Meta:
        model = Payout
        fields = ["id", "amount", "status", "account", "provider", "request_id", "provider_reference",
                  "failure_reason", "batch", "created_at", "sent_at", "completed_at"]


class CallbackOutput(serializers.Serializer):
    outcome = serializers.CharField()
