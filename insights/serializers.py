from django.conf import settings
from rest_framework import serializers

from catalog.serializers import ProductListOutput
from livestream.serializers import StreamListOutput

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


class ForYouQuery(serializers.Serializer):
    province = serializers.CharField(required=False, max_length=50, allow_blank=True,
                                     help_text="for a buyer without orders: where to look for popular products")


class ForYouProductsOutput(serializers.Serializer):
    source = serializers.ChoiceField(choices=["personal", "popular"])
    results = ProductListOutput(many=True)


class ForYouStreamsOutput(serializers.Serializer):
    results = StreamListOutput(many=True)


class SimilarProductsOutput(serializers.Serializer):
    results = ProductListOutput(many=True)
