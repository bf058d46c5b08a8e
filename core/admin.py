from django.contrib import admin

from .models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "scope", "state", "response_status", "created_at")
    list_filter = ("state",)
    search_fields = ("key", "user__username")
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]
