"""Staff screens: the vetting queue (filter by county and status) with decisions that call the services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline, ReasonActionForm, county_scoped, decision_actions
from core.sealing import lookup_digest

from . import services
from .models import Credential, CredentialEvent, Follow, Merchant, MerchantEvent


class MerchantEventInline(AuditInline):
    model = MerchantEvent


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
    actions = decision_actions("merchant", {
        "approve": _("Approve selected shops"),
        "reject": _("Reject selected shops (reason)"),
        "suspend": _("Suspend selected shops (reason)"),
        "reinstate": _("Reinstate selected shops"),
    }, lambda merchant, request, **decision: services.merchant_review(
        merchant_id=merchant.pk, actor=request.user, **decision))

    def get_queryset(self, request):
        return county_scoped(super().get_queryset(request).select_related("county", "village"), request, "county_id")

    def has_add_permission(self, request):
        return False  # shops apply through the API


class CredentialEventInline(AuditInline):
    model = CredentialEvent


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ("merchant", "kind", "number", "expires_at", "status", "created_at")
    list_filter = ("status", "kind", "merchant__county")
    search_fields = ("merchant__shop_name",)
    search_help_text = _("Shop name, or a credential's whole number.")
    readonly_fields = ("merchant", "kind", "number", "issuer", "issued_at", "expires_at", "file", "status",
                       "reminded_30_at", "reminded_7_at", "created_at")
    inlines = [CredentialEventInline]
    action_form = ReasonActionForm
    actions = decision_actions("credential", {
        "approve": _("Verify selected credentials"),
        "reject": _("Reject selected credentials (reason)"),
        "revoke": _("Revoke selected credentials (reason)"),
    }, lambda credential, request, **decision: services.credential_review(
        credential=credential, actor=request.user, **decision))

    def get_queryset(self, request):
        return county_scoped(super().get_queryset(request).select_related("merchant"), request, "merchant__county_id")

    def get_search_results(self, request, queryset, search_term):
        """Numbers are sealed: a whole number is found through its digest, never by a partial match."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = search_term.strip().replace(" ", "")
        if number:
            digests = {lookup_digest(number), lookup_digest(number.upper())}
            results |= queryset.filter(number_digest__in=digests)
        return results, may_have_duplicates

    def has_add_permission(self, request):
        return False


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "created_at")
    raw_id_fields = ("user", "merchant")
