"""Staff screens: payouts and batches to read, failed payouts to send again, accounts masked."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline, run_decisions

from .models import Payout, PayoutAccount, PayoutAccountEvent, PayoutBatch, PayoutEvent
from .services import payout_retry


class PayoutEventInline(AuditInline):
    model = PayoutEvent


class PayoutAccountEventInline(AuditInline):
    model = PayoutAccountEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services (the ledger's postings go with them): nothing added or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + list(self.extra_readonly)

    extra_readonly: tuple = ()


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "merchant", "amount", "status", "provider", "batch", "masked_account", "created_at",
                    "completed_at")
    list_filter = ("status", "provider")
    search_fields = ("id", "merchant__shop_name", "provider_reference", "request_id")
    list_select_related = ("merchant", "account")
    inlines = [PayoutEventInline]
    actions = ["retry_failed"]

    @admin.display(description=_("payout account"))
    def masked_account(self, obj):
        return obj.account.masked_number

    @admin.action(description=_("Retry failed payouts (a new payout of the returned amount)"))
    def retry_failed(self, request, queryset):
        run_decisions(self, request, queryset.filter(status=Payout.Status.FAILED),
                      lambda payout, reason: payout_retry(payout_id=payout.pk, actor=request.user))


class PayoutInline(admin.TabularInline):
    model = Payout
    extra = 0
    can_delete = False
    fields = ("id", "merchant", "amount", "status", "completed_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "finished_at", "payout_count", "total")
    inlines = [PayoutInline]


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "merchant", "version", "kind", "holder_name", "bank_name", "masked_number", "status",
                    "created_at", "reviewed_by")
    list_filter = ("status", "kind")
    search_fields = ("merchant__shop_name", "holder_name")
    list_select_related = ("merchant", "reviewed_by")
    exclude = ("number",)
    extra_readonly = ("masked_number",)
    inlines = [PayoutAccountEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "number"]

    @admin.display(description=_("account number or login"))
    def masked_number(self, obj):
        return obj.masked_number
