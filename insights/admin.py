from django.contrib import admin

from core.adminkit import ReadOnlyAdmin

from .models import BuyerProfile, InteractionEvent


@admin.register(InteractionEvent)
class InteractionEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "user", "product", "merchant", "stream", "value"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "product", "merchant", "stream"]
    date_hierarchy = "at"


@admin.register(BuyerProfile)
class BuyerProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "personalised", "match_alerts", "built_at"]
    list_filter = ["personalised", "match_alerts"]
    fields = ["user", "personalised", "match_alerts", "built_at"]  # never the interests: the owner's alone
