from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Delivery, FanOut, Notification, Preference
from .services.outbox import outbox_wake


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "state", "attempts", "not_before", "sent_at", "provider_id", "detail")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "user__username")
    raw_id_fields = ("user",)
    readonly_fields = ("user", "kind", "params", "title", "body", "dedupe_key", "read_at", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False  # notifications come from domain events (services.notify)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "state", "attempts", "not_before", "sent_at", "detail")
    list_filter = ("channel", "state")
    raw_id_fields = ("notification",)
    readonly_fields = ("notification", "channel", "state", "key", "not_before", "attempts", "claim_token",
                       "claimed_at", "sent_at", "provider_id", "detail", "created_at")
    actions = ["deliver_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Wake the outbox workers for the selected channels"))
    def deliver_now(self, request, queryset):
        channels = sorted(set(queryset.values_list("channel", flat=True)))
        outbox_wake(channels, force=True)
        self.message_user(request, _("Woken: %s") % ", ".join(channels), messages.SUCCESS)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "sms_enabled", "quiet_hours_enabled", "quiet_start", "quiet_end")
    raw_id_fields = ("user",)


@admin.register(FanOut)
class FanOutAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "cursor", "notified", "finished_at", "updated_at")
    list_filter = ("kind",)
    readonly_fields = ("kind", "key", "cursor", "notified", "finished_at", "created_at", "updated_at")
