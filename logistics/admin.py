from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline, run_decisions

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


class ShipmentEventInline(AuditInline):
    model = ShipmentEvent
    fields = ("created_at", "action", "from_status", "to_status", "hub", "actor", "dispatch", "reason", "note")


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


class DispatchEventInline(AuditInline):
    model = DispatchEvent


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

    def _run(self, request, queryset, service):
        run_decisions(self, request, queryset,
                      lambda dispatch, _reason: service(user=request.user, dispatch_id=dispatch.pk))

    @admin.action(description=_("Depart the selected runs"))
    def depart(self, request, queryset):
        self._run(request, queryset, services.dispatch_depart)

    @admin.action(description=_("Scan the selected trunk runs in at their hub"))
    def arrive(self, request, queryset):
        self._run(request, queryset, services.dispatch_arrive)

    @admin.action(description=_("Cancel the selected planned runs"))
    def cancel(self, request, queryset):
        self._run(request, queryset, services.dispatch_cancel)
