"""Input and output shapes of adoptions (no logic)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from orders.serializers import MAX_ID, AddressInput

from .models import Adoption, AdoptionUpdate, Delivery, Subscription


class ScheduleInput(serializers.Serializer):
    every = serializers.ChoiceField(choices=Adoption.Every.choices)
    first_delivery = serializers.DateField()
    deliveries = serializers.IntegerField(min_value=1, max_value=52, required=False, default=1,
                                          help_text=_("How many deliveries (1 for “once”)."))


class AdoptionCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=80)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=Adoption.Kind.choices, required=False, default=Adoption.Kind.TREE)
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                       help_text=_("The shop's product each delivery sends."))
    season_from = serializers.DateField()
    season_to = serializers.DateField()
    schedule = ScheduleInput()
    quantity = serializers.IntegerField(min_value=1, max_value=999, required=False, default=1,
                                        help_text=_("Units of the product per delivery."))
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    cap = serializers.IntegerField(min_value=1, max_value=100000, help_text=_("The most adopters."))


class AdoptionListFilter(serializers.Serializer):
    merchant = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    status = serializers.ChoiceField(choices=Adoption.Status.choices, required=False)


class AdoptionOutput(serializers.ModelSerializer):
    merchant = serializers.IntegerField(source="merchant_id")
    shop_name = serializers.CharField(source="merchant.shop_name")
    product = serializers.IntegerField(source="product_id")
    schedule = serializers.SerializerMethodField()
    adopters = serializers.IntegerField(source="taken", help_text=_("Places taken."))
    left = serializers.SerializerMethodField(help_text=_("Places still free."))

    class Meta:
        model = Adoption
        fields = ["id", "merchant", "shop_name", "product", "title", "description", "kind", "season_from",
                  "season_to", "schedule", "quantity", "price", "cap", "adopters", "left", "status", "created_at"]

    def get_schedule(self, obj) -> dict:
        return {"every": obj.every, "first_delivery": obj.first_delivery.isoformat(), "deliveries": obj.deliveries,
                "dates": [day.isoformat() for day in obj.delivery_dates()]}

    def get_left(self, obj) -> int:
        return max(obj.cap - obj.taken, 0)


class AdoptInput(serializers.Serializer):
    address = AddressInput()
    stream = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                      help_text=_("The live stream the adoption was bought in."))


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["seq", "due_on", "order", "skipped"]


class SubscriptionOutput(serializers.ModelSerializer):
    adoption = serializers.IntegerField(source="adoption_id")
    title = serializers.CharField(source="adoption.title")
    order = serializers.IntegerField(source="order_id", help_text=_("The order that pays for the adoption."))
    order_status = serializers.CharField(source="order.status")
    total = serializers.DecimalField(source="order.total", max_digits=12, decimal_places=2)
    deliveries = DeliveryOutput(many=True)

    class Meta:
        model = Subscription
        fields = ["id", "adoption", "title", "status", "order", "order_status", "total", "refunded", "deliveries",
                  "created_at", "cancelled_at"]


class UpdateInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    photo = serializers.ImageField(required=False)


class UpdateOutput(serializers.ModelSerializer):
    class Meta:
        model = AdoptionUpdate
        fields = ["id", "note", "photo", "created_at"]
