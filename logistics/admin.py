from django.contrib import admin

from .models import Hub


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "code", "region", "cold_chain", "is_active")
    list_filter = ("kind", "cold_chain", "is_active", "region__county")
    search_fields = ("name", "code", "address")
    autocomplete_fields = ("region",)
