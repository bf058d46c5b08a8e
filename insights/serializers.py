from django.conf import settings
from rest_framework import serializers

from .models import InteractionEvent


class InsightsSettingsInput(serializers.Serializer):
    personalised = serializers.BooleanField(required=False)
    match_alerts = serializers.BooleanField(required=False)


class MyInsightsOutput(serializers.Serializer):
    personalised = serializers.BooleanField()
    match_alerts = serializers.BooleanField()
    interests = serializers.DictField()
    built_at = serializers.DateTimeField(allow_null=True)
    kept = serializers.DictField(child=serializers.IntegerField(), help_text="interactions kept, by kind")
    oldest = serializers.DateTimeField(allow_null=True)
    retention_days = serializers.SerializerMethodField()

    def get_retention_days(self, data) -> int:
        return settings.INSIGHTS_RETENTION_DAYS


class InteractionOutput(serializers.ModelSerializer):
    product_title = serializers.CharField(source="product.title", default=None)
    shop_name = serializers.CharField(source="merchant.shop_name", default=None)
    stream_title = serializers.CharField(source="stream.title", default=None)

    class Meta:
        model = InteractionEvent
        fields = ["id", "kind", "product", "product_title", "merchant", "shop_name", "stream", "stream_title",
                  "value", "at"]
