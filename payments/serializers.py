from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class PayInput(serializers.Serializer):
    provider = serializers.ChoiceField(
        choices=["alipay", "sandbox", "wechatpay"], required=False, default=settings.PAYMENT_DEFAULT_PROVIDER,
        help_text=_("The channel; one without keys on this server is refused (provider_disabled)."))
    method = serializers.ChoiceField(
        choices=["", "jsapi", "h5", "native", "page", "wap", "app"], required=False, default="",
        help_text=_("WeChat Pay: jsapi (mini-program / official account; needs openid), h5 (mobile browser) or "
                    "native (QR code, the default). Alipay: page (the default), wap or app."))
    openid = serializers.CharField(max_length=128, required=False, default="",
                                   help_text=_("The payer's openid under our app id (WeChat Pay jsapi)."))


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    provider = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField()
    client_params = serializers.JSONField(help_text=_("What the app hands to the provider's SDK to pay."))
    created_at = serializers.DateTimeField()


class WebhookNoticeInput(serializers.Serializer):
    """The body a provider posts (documented for the schema; verified and read by the provider adapter)."""

    event_id = serializers.CharField(max_length=100, help_text=_("The provider's event id; repeats are ignored."))
    type = serializers.ChoiceField(choices=["payment.succeeded", "payment.failed"])
    payment_id = serializers.IntegerField(help_text=_("The id returned by POST /api/orders/{id}/pay/."))
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(max_length=3, help_text="CNY")


class WebhookOutput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["paid", "failed", "refunded_late", "ignored", "duplicate"])
