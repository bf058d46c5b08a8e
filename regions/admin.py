from django.contrib import admin

from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "level", "parent", "county", "province")
    list_filter = ("level", "province")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent",)
    exclude = ("county",)
