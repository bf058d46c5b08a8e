from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.masking import mask_name
from regions.serializers import RegionOutput

from .models import Courier, Dispatch, Hub, Shipment, ShipmentEvent, ShipmentStop, Vehicle

S = Shipment.Status


class HubOutput(serializers.ModelSerializer):
    region = RegionOutput(read_only=True)

    class Meta:
        model = Hub
        fields = ["id", "kind", "name", "code", "region", "address", "phone", "cold_chain"]


class HubListFilter(serializers.Serializer):
    county = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.ChoiceField(choices=Hub.Kind.choices, required=False)
    region = serializers.IntegerField(required=False, min_value=1)


class HubBrief(serializers.ModelSerializer):
    class Meta:
        model = Hub
        fields = ["id", "kind", "name", "code"]


class PlaceBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- shipments -------------------------------------------------------------------------------

class ShipInput(serializers.Serializer):
    parcel_count = serializers.IntegerField(min_value=1, max_value=99, default=1)
    weight_kg = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.01"),
                                         help_text=_("Total weight of the parcels, kg."))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


SCAN_STATUS_CHOICES = [(s.value, s.label) for s in (S.PICKED_UP, S.AT_COUNTY_CENTRE, S.AT_TOWNSHIP_STATION,
                                                     S.OUT_FOR_DELIVERY, S.DELIVERED, S.FAILED, S.RETURNED)]


class ScanInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=SCAN_STATUS_CHOICES)
    hub = serializers.IntegerField(required=False, min_value=1, help_text=_("Defaults to the route's next hub."))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    pickup_code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="",
                                        help_text=_("The recipient's six-digit code; required for delivered."))
    reason = serializers.ChoiceField(choices=Shipment.FailureReason.choices, required=False, allow_blank=True,
                                     default="", help_text=_("Required for failed."))

    def validate(self, attrs):
        if attrs["status"] == S.DELIVERED and not attrs.get("pickup_code"):
            raise serializers.ValidationError({"pickup_code": [_("The recipient's pickup code is required.")]})
        if attrs["status"] == S.FAILED and not attrs.get("reason"):
            raise serializers.ValidationError({"reason": [_("Say why the delivery failed.")]})
        return attrs


class ActorOutput(serializers.Serializer):
    role = serializers.CharField()
    name = serializers.CharField()


class ShipmentEventOutput(serializers.ModelSerializer):
    status = serializers.CharField(source="to_status")
    hub = HubBrief(read_only=True, allow_null=True)
    actor = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = ShipmentEvent
        fields = ["id", "status", "from_status", "action", "hub", "actor", "note", "reason", "dispatch", "at"]

    @extend_schema_field(ActorOutput(allow_null=True))
    def get_actor(self, event):
        if event.actor is None:
            return None
        return {"role": event.actor.role, "name": mask_name(event.actor.get_full_name() or event.actor.username)}


class RouteStopOutput(serializers.ModelSerializer):
    hub = HubBrief(read_only=True)

    class Meta:
        model = ShipmentStop
        fields = ["index", "hub", "leg", "arrival_status", "arrived_at"]


class RecipientOutput(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()


class ShipmentShopOutput(serializers.Serializer):
    id = serializers.IntegerField()
    shop_name = serializers.CharField()


class ShipmentSummaryOutput(serializers.ModelSerializer):
    """A shipment in a list: the operator's work queue."""

    order = serializers.IntegerField(source="merchant_order.order_id")
    merchant = ShipmentShopOutput(read_only=True)
    current_hub = HubBrief(read_only=True, allow_null=True)
    next_hub = HubBrief(read_only=True, allow_null=True)
    destination_village = PlaceBrief(read_only=True)
    overdue = serializers.SerializerMethodField()
    dispatch = serializers.PrimaryKeyRelatedField(source="current_dispatch", read_only=True, allow_null=True)

    class Meta:
        model = Shipment
        fields = ["id", "merchant_order", "order", "status", "perishable", "cold_chain", "parcel_count", "weight_kg",
                  "merchant", "current_hub", "next_hub", "destination_village", "due_at", "overdue",
                  "expected_delivery_at", "dispatch", "delivery_attempts", "failure_reason", "carrier",
                  "tracking_number", "created_at"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, shipment) -> bool:
        flag = getattr(shipment, "is_overdue", None)
        if flag is not None:
            return flag
        return bool(shipment.due_at and shipment.due_at < timezone.now() and not shipment.is_terminal)


class ShipmentOutput(ShipmentSummaryOutput):
    """Tracking for the buyer, the merchant and the county's operators."""

    route = RouteStopOutput(source="stops", many=True, read_only=True)
    events = ShipmentEventOutput(many=True, read_only=True)
    recipient = serializers.SerializerMethodField()
    pickup_code = serializers.SerializerMethodField(help_text=_("Shown to the buyer alone."))

    class Meta(ShipmentSummaryOutput.Meta):
        fields = [*ShipmentSummaryOutput.Meta.fields, "note", "delivered_at", "recipient", "pickup_code", "route",
                  "events"]

    @extend_schema_field(RecipientOutput)
    def get_recipient(self, shipment):
        order = shipment.merchant_order.order
        return {"name": order.recipient, "phone": order.recipient_phone,
                "address": f"{shipment.destination_village.name} {order.address_detail}"}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pickup_code(self, shipment):
        viewer = self.context.get("viewer")
        if viewer is not None and viewer.pk == shipment.buyer_id and not shipment.is_terminal:
            return shipment.pickup_code
        return None


class QueueFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=S.choices, required=False)
    township = serializers.IntegerField(required=False, min_value=1)
    perishable = serializers.BooleanField(required=False, allow_null=True, default=None)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    county = serializers.IntegerField(required=False, min_value=1, help_text=_("Admins: one county's queue."))


# --- runs -------------------------------------------------------------------------------------------

class DispatchCreateInput(serializers.Serializer):
    """A suggestion from ``GET …/suggestions/`` posts as it is: the one of township/hub it does not
    use is null, and its descriptive fields are ignored."""

    township = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                        help_text=_("Deliver to (or carry to the station of) this township."))
    hub = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text=_("Carry to this hub."))
    shipments = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)
    vehicle = serializers.IntegerField(min_value=1)
    courier = serializers.IntegerField(required=False, min_value=1)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if (attrs.get("township") is None) == (attrs.get("hub") is None):
            raise serializers.ValidationError({"township": [_("Give a township or a hub (one of them).")]})
        return attrs


class VehicleOutput(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "county", "plate", "name", "cold_chain", "capacity_kg", "is_active"]


class VehicleInput(serializers.Serializer):
    plate = serializers.CharField(max_length=16)
    name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    cold_chain = serializers.BooleanField(default=False)
    capacity_kg = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("1"))
    county = serializers.IntegerField(required=False, min_value=1, help_text=_("Admins only."))


class CourierOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    phone = serializers.CharField(source="user.phone")
    township = PlaceBrief(read_only=True, allow_null=True)

    class Meta:
        model = Courier
        fields = ["id", "user", "username", "phone", "county", "township", "is_active"]


class CourierInput(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, help_text=_("An operator of the county."))
    township = serializers.IntegerField(required=False, min_value=1)
    county = serializers.IntegerField(required=False, min_value=1, help_text=_("Admins only."))


class DispatchOutput(serializers.ModelSerializer):
    destination_hub = HubBrief(read_only=True)
    township = PlaceBrief(read_only=True, allow_null=True)
    vehicle = VehicleOutput(read_only=True)
    courier = CourierOutput(read_only=True, allow_null=True)
    shipment_count = serializers.IntegerField(read_only=True)
    on_board_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dispatch
        fields = ["id", "county", "kind", "status", "destination_hub", "township", "vehicle", "courier", "note",
                  "shipment_count", "on_board_count", "created_at", "departed_at", "arrived_at"]


class DispatchDetailOutput(DispatchOutput):
    shipments = serializers.SerializerMethodField()

    class Meta(DispatchOutput.Meta):
        fields = [*DispatchOutput.Meta.fields, "shipments"]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_shipments(self, dispatch):
        return [item.shipment_id for item in dispatch.items.all()]


class DispatchListFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Dispatch.Status.choices, required=False)


class SuggestionOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Dispatch.Kind.choices)
    hub = serializers.IntegerField(allow_null=True)
    township = serializers.IntegerField(allow_null=True)
    destination = serializers.CharField()
    from_hub = serializers.CharField()
    shipments = serializers.ListField(child=serializers.IntegerField())
    count = serializers.IntegerField()
    weight_kg = serializers.DecimalField(max_digits=10, decimal_places=2)
    perishable = serializers.IntegerField()
    cold_chain = serializers.IntegerField()
    overdue = serializers.IntegerField()
    vehicle = serializers.IntegerField(allow_null=True, help_text=_("The smallest active vehicle that fits."))


class SuggestionFilter(serializers.Serializer):
    county = serializers.IntegerField(required=False, min_value=1, help_text=_("Admins only."))
