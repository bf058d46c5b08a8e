"""Staff screens: the vetting queue (filter by county and status) with decisions that call the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from . import services
from .models import Credential, CredentialEvent, Follow, Merchant, MerchantEvent


class ReasonActionForm(ActionForm):
    reason = forms.CharField(label=_("reason"), required=False, max_length=500)


def run_decisions(modeladmin, request, queryset, call):
    """Apply ``call(obj, reason)`` to each selected row; report each refusal instead of stopping."""
    reason = request.POST.get("reason", "")
    done = 0
    for obj in queryset:
        try:
            call(obj, reason)
            done += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message} {error.fields or ''}", messages.ERROR)
    if done:
        modeladmin.message_user(request, _("%(n)s done.") % {"n": done}, messages.SUCCESS)


def county_scoped(queryset, request, county_field: str):
    """An operator using the admin sees only its county; platform admins see all."""
    user = request.user
    if user.is_platform_admin:
        return queryset
    if user.is_operator:
        return queryset.filter(**{county_field: user.county_id})
    return queryset.none()


def _merchant_decision(decision):
    def action(modeladmin, request, queryset):
        run_decisions(modeladmin, request, queryset, lambda merchant, reason: services.merchant_review(
            merchant_id=merchant.pk, actor=request.user, decision=decision, reason=reason))

    action.__name__ = f"merchant_{decision}"
    action.short_description = {"approve": _("Approve selected shops"), "reject": _("Reject selected shops (reason)"),
                                "suspend": _("Suspend selected shops (reason)"),
                                "reinstate": _("Reinstate selected shops")}[decision]
    return action


class MerchantEventInline(admin.TabularInline):
    model = MerchantEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "from_status", "to_status", "reason")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class CredentialInline(admin.TabularInline):
    model = Credential
    extra = 0
    can_delete = False
    fields = ("kind", "number", "issuer", "expires_at", "status", "file")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("shop_name", "kind", "county", "village", "status", "created_at")
    list_filter = ("status", "kind", "county")
    search_fields = ("shop_name", "user__username", "contact_phone")
    readonly_fields = ("status", "county", "user", "rating_avg", "rating_count", "created_at", "updated_at")
    raw_id_fields = ("village",)
    inlines = [CredentialInline, MerchantEventInline]
    action_form = ReasonActionForm
    actions = [_merchant_decision(d) for d in ("approve", "reject", "suspend", "reinstate")]

    def get_queryset(self, request):
        return county_scoped(super().get_queryset(request).select_related("county", "village"), request, "county_id")

    def has_add_permission(self, request):
        return False  # shops apply through the API


def _credential_decision(decision):
    def action(modeladmin, request, queryset):
        run_decisions(modeladmin, request, queryset, lambda credential, reason: services.credential_review(
            credential=credential, actor=request.user, decision=decision, reason=reason))

    action.__name__ = f"credential_{decision}"
    action.short_description = {"approve": _("Verify selected credentials"),
                                "reject": _("Reject selected credentials (reason)"),
                                "revoke": _("Revoke selected credentials (reason)")}[decision]
    return action


class CredentialEventInline(admin.TabularInline):
    model = CredentialEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "from_status", "to_status", "reason")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ("merchant", "kind", "number", "expires_at", "status", "created_at")
    list_filter = ("status", "kind", "merchant__county")
    search_fields = ("merchant__shop_name", "number")
    readonly_fields = ("merchant", "kind", "number", "issuer", "issued_at", "expires_at", "file", "status",
                       "reminded_30_at", "reminded_7_at", "created_at")
    inlines = [CredentialEventInline]
    action_form = ReasonActionForm
    actions = [_credential_decision(d) for d in ("approve", "reject", "revoke")]

    def get_queryset(self, request):
        return county_scoped(super().get_queryset(request).select_related("merchant"), request, "merchant__county_id")

    def has_add_permission(self, request):
        return False


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "created_at")
    raw_id_fields = ("user", "merchant")
