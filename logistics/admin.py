from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from . import services
from .models import Courier, Dispatch, DispatchEvent, Hub, Shipment, ShipmentEvent, ShipmentStop, Vehicle


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "code", "region", "cold_chain", "is_active")
    list_filter = ("kind", "cold_chain", "is_active", "region__county")
    search_fields = ("name", "code", "address")
    autocomplete_fields = ("region",)


@admin.register(Courier)
class CourierAdmin(admin.ModelAdmin):
    list_display = ("user", "county", "township", "is_active")
    list_filter = ("is_active", "county")
    search_fields = ("user__username",)
    raw_id_fields = ("user", "county", "township")


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ("plate", "name", "county", "cold_chain", "capacity_kg", "is_active")
    list_filter = ("cold_chain", "is_active", "county")
    search_fields = ("plate", "name")
    raw_id_fields = ("county",)


class ShipmentStopInline(admin.TabularInline):
    model = ShipmentStop
    extra = 0
    can_delete = False
    fields = ("index", "hub", "leg", "arrival_status", "arrived_at")
    readonly_fields = fields


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "from_status", "to_status", "hub", "actor", "dispatch", "reason", "note")
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Read-only here: parcels move by scans and runs (the API), so every move is an event."""

    list_display = ("id", "merchant", "status", "perishable", "cold_chain", "current_hub", "next_hub", "due_at",
                    "overdue_flagged_at")
    list_filter = ("status", "perishable", "cold_chain", "origin_county", "destination_county")
    search_fields = ("id", "tracking_number", "merchant__shop_name")
    exclude = ("pickup_code",)
    readonly_fields = [f.name for f in Shipment._meta.fields if f.name != "pickup_code"]
    inlines = [ShipmentStopInline, ShipmentEventInline]
    actions = ["flag_overdue"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Run the SLA watch now (flag overdue shipments)"))
    def flag_overdue(self, request, queryset):
        flagged = services.shipments_flag_overdue()
        self.message_user(request, _("%(n)s shipments newly flagged overdue.") % {"n": flagged}, messages.SUCCESS)


class DispatchEventInline(admin.TabularInline):
    model = DispatchEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields


@admin.register(Dispatch)
class DispatchAdmin(admin.ModelAdmin):
    list_display = ("id", "county", "kind", "destination_hub", "vehicle", "courier", "status", "created_at")
    list_filter = ("status", "kind", "county")
    readonly_fields = ("county", "kind", "destination_hub", "township", "vehicle", "courier", "status", "created_by",
                       "created_at", "departed_at", "arrived_at")
    inlines = [DispatchEventInline]
    actions = ["depart", "arrive", "cancel"]

    def has_add_permission(self, request):
        return False

    def _run(self, request, queryset, service, label):
        for dispatch in queryset:
            try:
                service(user=request.user, dispatch_id=dispatch.pk)
            except DomainError as error:
                self.message_user(request, f"#{dispatch.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"#{dispatch.pk}: {label}", messages.SUCCESS)

    @admin.action(description=_("Depart the selected runs"))
    def depart(self, request, queryset):
        self._run(request, queryset, services.dispatch_depart, _("departed"))

    @admin.action(description=_("Scan the selected trunk runs in at their hub"))
    def arrive(self, request, queryset):
        self._run(request, queryset, services.dispatch_arrive, _("arrived"))

    @admin.action(description=_("Cancel the selected planned runs"))
    def cancel(self, request, queryset):
        self._run(request, queryset, services.dispatch_cancel, _("cancelled"))
