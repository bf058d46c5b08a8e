from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "role", "phone", "county", "is_active", "date_joined")
    list_filter = ("role", "county", "is_active", "is_staff")
    search_fields = ("username", "phone", "email")
    fieldsets = DjangoUserAdmin.fieldsets + ((_("Cunbo"), {"fields": ("role", "phone", "county", "language")}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + ((_("Cunbo"), {"fields": ("role", "phone", "county")}),)
