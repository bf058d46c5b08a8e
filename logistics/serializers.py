from rest_framework import serializers

from regions.serializers import RegionOutput

from .models import Hub


class HubOutput(serializers.ModelSerializer):
    region = RegionOutput(read_only=True)

    class Meta:
        model = Hub
        fields = ["id", "kind", "name", "code", "region", "address", "phone", "cold_chain"]


class HubListFilter(serializers.Serializer):
    county = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.ChoiceField(choices=Hub.Kind.choices, required=False)
    region = serializers.IntegerField(required=False, min_value=1)
