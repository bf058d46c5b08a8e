from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline, run_decisions

from . import services
from .models import ChatMessage, ChatMute, Offer, Stream, StreamEvent


class StreamEventInline(AuditInline):
    model = StreamEvent


def _each(modeladmin, request, queryset, action):
    run_decisions(modeladmin, request, queryset, lambda obj, _reason: action(obj))


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin):
    list_display = ("title", "merchant", "status", "scheduled_at", "started_at", "ended_at", "peak_viewers")
    list_filter = ("status",)
    search_fields = ("title", "merchant__shop_name")
    raw_id_fields = ("merchant", "pinned_product", "products")
    readonly_fields = ("status", "stream_key", "playback_id", "started_at", "ended_at", "cancelled_at",
                       "peak_viewers", "ingest_active", "ingest_addr", "created_at")
    inlines = [StreamEventInline]
    actions = ["end_streams", "cancel_streams"]

    @admin.action(description=_("End the selected live streams"))
    def end_streams(self, request, queryset):
        _each(self, request, queryset, lambda s: services.stream_end(stream_id=s.pk, actor=request.user))

    @admin.action(description=_("Cancel the selected scheduled streams"))
    def cancel_streams(self, request, queryset):
        _each(self, request, queryset, lambda s: services.stream_cancel(stream_id=s.pk, actor=request.user))


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("product", "stream", "price", "quantity", "remaining", "returned", "status", "end_reason",
                    "ends_at")
    list_filter = ("status", "end_reason")
    raw_id_fields = ("stream", "product")
    readonly_fields = ("remaining", "returned", "status", "end_reason", "ended_at")
    actions = ["end_offers"]

    def has_add_permission(self, request):
        return False  # offers start from the live room, where their stock is taken

    @admin.action(description=_("End the selected offers (unsold units go back to stock)"))
    def end_offers(self, request, queryset):
        _each(self, request, queryset,
              lambda o: services.offer_end(offer_id=o.pk, reason=Offer.EndReason.CANCELLED, actor=request.user))


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("stream", "user", "text", "deleted", "created_at")
    list_filter = ("deleted",)
    search_fields = ("text", "user__username")
    raw_id_fields = ("stream", "user", "deleted_by")
    actions = ["take_down"]

    @admin.action(description=_("Take the selected messages down (tells the room)"))
    def take_down(self, request, queryset):
        _each(self, request, queryset, lambda m: services.chat_message_delete(
            stream_id=m.stream_id, message_id=m.pk, actor=request.user))


@admin.register(ChatMute)
class ChatMuteAdmin(admin.ModelAdmin):
    list_display = ("stream", "user", "muted_by", "created_at")
    raw_id_fields = ("stream", "user", "muted_by")
