"""Admin screens of the ledger: accounts and postings are read-only (the database refuses any change
anyway); adjustments are made here, through the service, with a reason."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.adminkit import ReadOnlyAdmin
from core.errors import ValidationFailed
from core.masking import mask_phone
from payments.settlement_file import MAX_BYTES, parse_settlement_file

from . import services
from .models import (
    Account,
    Adjustment,
    CoopMember,
    Entry,
    LineBatch,
    MemberShare,
    Mismatch,
    NegativeBalance,
    Posting,
    ReconciliationRun,
    Settlement,
)
from .reconciliation import reconcile
from .serializers import mask_member_account


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    fields = ("account", "amount", "merchant_order")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "name", "merchant", "county", "balance")
    list_filter = ("kind",)
    search_fields = ("code", "name", "merchant__shop_name")
    list_select_related = ("merchant", "county")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_balance=Sum("entries__amount"))

    @admin.display(description=_("balance (debit +)"), ordering="_balance")
    def balance(self, obj):
        return obj._balance or 0


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "merchant", "memo", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "memo", "merchant__shop_name")
    date_hierarchy = "created_at"
    inlines = [EntryInline]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request)  # the list, never a form


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("merchant_order", "merchant", "state", "goods", "commission", "service_fee", "goods_refunded",
                    "paid_at", "released_at")
    list_filter = ("state",)
    search_fields = ("merchant_order__id", "merchant__shop_name")
    list_select_related = ("merchant",)


class AdjustmentForm(forms.ModelForm):
    class Meta:
        model = Adjustment
        fields = ("merchant", "amount", "reason")

    def clean(self):
        data = super().clean()
        if "amount" in data and "reason" in data:
            try:
                data["amount"], data["reason"] = services.adjustment_validate(amount=data["amount"],
                                                                              reason=data["reason"])
            except ValidationFailed as error:
                raise forms.ValidationError({name: [str(m) for m in messages_]
                                             for name, messages_ in (error.fields or {}).items()}) from None
        return data


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    """Adjustments are added (through ``ledger.services.adjustment_create``), never edited or deleted."""

    form = AdjustmentForm
    list_display = ("merchant", "amount", "reason", "created_by", "created_at")
    search_fields = ("merchant__shop_name", "reason")
    autocomplete_fields = ("merchant",)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.adjustment_create(merchant=obj.merchant, amount=obj.amount, reason=obj.reason,
                                           actor=request.user)
        obj.pk, obj.posting_id, obj.created_by = saved.pk, saved.posting_id, saved.created_by


@admin.register(NegativeBalance)
class NegativeBalanceAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "amount", "since", "flagged_at")
    list_select_related = ("merchant",)


# ==================================================================================================
# --- statements: cooperative members and their shares (docs/ledger.md, "Cooperative members") -------
# Members are shown masked (their mobile and payout account); the payout account is never shown
# or edited whole here: the cooperative keeps it through the API.


class MemberShareInline(admin.TabularInline):
    model = MemberShare
    extra = 0
    fields = ("product", "batch", "percent")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CoopMember)
class CoopMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "merchant", "name", "masked_phone", "payout_kind", "masked_account", "active")
    list_filter = ("active", "payout_kind")
    search_fields = ("name", "merchant__shop_name")
    list_select_related = ("merchant",)
    fields = ("merchant", "name", "masked_phone", "payout_kind", "masked_account", "bank_name", "active",
              "created_at", "updated_at")
    readonly_fields = ("merchant", "masked_phone", "payout_kind", "masked_account", "created_at", "updated_at")
    inlines = [MemberShareInline]

    def has_add_permission(self, request):
        return False  # the cooperative records its members (with their payout account) through the API

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: statements keep the member's row

    @admin.display(description=_("phone"))
    def masked_phone(self, member):
        return mask_phone(member.phone)

    @admin.display(description=_("payout account"))
    def masked_account(self, member):
        return mask_member_account(member.payout_account)


@admin.register(MemberShare)
class MemberShareAdmin(admin.ModelAdmin):
    list_display = ("id", "member", "product", "batch", "percent")
    list_select_related = ("member__merchant", "product", "batch__product")
    search_fields = ("member__name", "member__merchant__shop_name", "product__title")
    readonly_fields = ("member", "product", "batch", "percent")

    def has_add_permission(self, request):
        return False  # shares are set together (summing to 100) through the API

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LineBatch)
class LineBatchAdmin(admin.ModelAdmin):
    list_display = ("line", "batch", "created_at")
    readonly_fields = ("line", "batch", "created_at")
    list_select_related = ("batch__product",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- reconciliation ------------------------------------------------------------------------------

class ReconciliationUploadForm(forms.ModelForm):
    """A provider's settlement file for one day; matched against the ledger when saved."""

    file = forms.FileField(label=_("settlement file (CSV)"), max_length=200)

    class Meta:
        model = ReconciliationRun
        fields = ("provider", "day")

    def clean_provider(self):
        provider = self.cleaned_data["provider"]
        if provider not in settings.PAYMENT_PROVIDERS:
            raise forms.ValidationError(_("Unknown payment provider."))
        return provider

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        data = upload.read()
        try:
            parse_settlement_file(data)
        except ValidationFailed as error:
            raise forms.ValidationError(str(error)) from None
        self.data_bytes = data
        return upload


class MismatchInline(admin.TabularInline):
    model = Mismatch
    extra = 0
    can_delete = False
    fields = ("kind", "key", "transaction_id", "provider_amount", "ledger_amount", "note", "resolved_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = ("day", "provider", "provider_rows", "matched", "mismatched", "provider_total", "ledger_total",
                    "created_by", "created_at")
    list_filter = ("provider",)
    date_hierarchy = "day"
    inlines = [MismatchInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # a new run is an upload; its mismatches come from matching

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ReconciliationUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ReconciliationRun._meta.fields] if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        run = reconcile(provider=obj.provider, day=obj.day, data=form.data_bytes, file_name=form.cleaned_data["file"].name,
                        actor=request.user)
        obj.pk, obj._state.adding = run.pk, False


@admin.register(Mismatch)
class MismatchAdmin(ReadOnlyAdmin):
    list_display = ("run", "kind", "key", "transaction_id", "provider_amount", "ledger_amount", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("key", "transaction_id")
    actions = ["mark_resolved"]

    @admin.action(description=_("Mark as looked at and resolved"), permissions=["view"])
    def mark_resolved(self, request, queryset):
        done = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, _("%(n)d mismatch(es) resolved.") % {"n": done})
