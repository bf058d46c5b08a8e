from django.contrib import admin

from .models import Adoption, AdoptionUpdate, Delivery, Subscription


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("seq", "due_on", "order", "skipped")
    readonly_fields = fields


@admin.register(Adoption)
class AdoptionAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "merchant", "kind", "every", "deliveries", "price", "cap", "status")
    list_filter = ("status", "kind", "every")
    search_fields = ("title", "merchant__shop_name")
    raw_id_fields = ("merchant", "product")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "adoption", "buyer", "status", "order", "refunded", "created_at")
    list_filter = ("status",)
    search_fields = ("adoption__title", "buyer__username")
    readonly_fields = ("adoption", "buyer", "order", "status", "refunded", "cancelled_at")
    inlines = [DeliveryInline]


@admin.register(AdoptionUpdate)
class AdoptionUpdateAdmin(admin.ModelAdmin):
    list_display = ("id", "adoption", "created_at")
    raw_id_fields = ("adoption",)
