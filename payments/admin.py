from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline, ReadOnlyAdmin

from .models import (
    ChannelExchange,
    Payment,
    PaymentEvent,
    Refund,
    RefundEvent,
    SandboxTransaction,
    WebhookEvent,
    WechatPayCertificate,
)
from .services import refund_submit


class PaymentEventInline(AuditInline):
    model = PaymentEvent


class RefundEventInline(AuditInline):
    model = RefundEvent


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("id", "order", "provider", "amount", "currency", "status", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("id", "order__id", "provider_reference")
    readonly_fields = ("order", "provider", "amount", "currency", "status", "provider_reference", "client_params",
                       "flag_reason", "succeeded_at")
    inlines = [PaymentEventInline]


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ("id", "payment", "merchant_order", "amount", "status", "attempts", "created_at")
    list_filter = ("status",)
    readonly_fields = ("payment", "merchant_order", "dispute", "amount", "reason", "status", "provider_reference",
                       "attempts", "last_error", "completed_at")
    inlines = [RefundEventInline]
    actions = ["send_again"]

    @admin.action(description=_("Send pending refunds to the provider now"))
    def send_again(self, request, queryset):
        for refund in queryset.filter(status=Refund.Status.PENDING):
            refund_submit(refund_id=refund.pk)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("provider", "event_id", "type", "payment", "outcome", "received_at")
    list_filter = ("provider", "type", "outcome")
    readonly_fields = ("provider", "event_id", "type", "payment", "payload", "outcome")


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(ReadOnlyAdmin):
    """The sandbox provider's own books (the stand-in for the provider's side), read only."""

    list_display = ("reference", "kind", "payment_id", "refund_id", "amount", "fee", "status", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("reference", "payment_id", "refund_id")


@admin.register(ChannelExchange)
class ChannelExchangeAdmin(ReadOnlyAdmin):
    """Every call to a real channel and every notice it sent, secrets redacted (for support)."""

    list_display = ("created_at", "provider", "direction", "operation", "payment_id", "refund_id", "status_code",
                    "outcome")
    list_filter = ("provider", "direction")
    search_fields = ("payment_id", "refund_id", "operation", "outcome")


@admin.register(WechatPayCertificate)
class WechatPayCertificateAdmin(ReadOnlyAdmin):
    list_display = ("serial_no", "effective_at", "expires_at", "fetched_at")
