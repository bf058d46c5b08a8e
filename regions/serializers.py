from rest_framework import serializers

from .models import Region


class RegionOutput(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code", "level", "parent", "county", "province"]


class RegionListFilter(serializers.Serializer):
    level = serializers.ChoiceField(choices=Region.Level.choices, required=False)
    parent = serializers.IntegerField(required=False, min_value=1)
    county = serializers.IntegerField(required=False, min_value=1)
