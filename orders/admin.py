from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline
from core.errors import DomainError

from . import services
from .models import (
    CommissionRule,
    Dispute,
    DisputeEvent,
    MerchantOrder,
    MerchantOrderEvent,
    Order,
    OrderEvent,
    OrderLine,
    Review,
)


class MerchantOrderInline(admin.TabularInline):
    model = MerchantOrder
    extra = 0
    can_delete = False
    fields = ("merchant", "status", "items_total", "delivery_fee", "total", "refunded_amount", "commission", "service_fee")
    readonly_fields = fields
    show_change_link = True


class OrderEventInline(AuditInline):
    model = OrderEvent


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("id", "buyer", "status", "total", "payment_deadline", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "buyer__username", "recipient", "recipient_phone")
    readonly_fields = ("buyer", "status", "items_total", "delivery_total", "total", "village", "stream",
                       "payment_deadline", "paid_at", "cancelled_at")
    inlines = [MerchantOrderInline, OrderEventInline]
    actions = ["expire_overdue"]

    @admin.action(description=_("Cancel if unpaid past the deadline (returns stock)"))
    def expire_overdue(self, request, queryset):
        done = sum(1 for order in queryset if services.order_expire(order_id=order.pk))
        self.message_user(request, _("%(n)d order(s) cancelled.") % {"n": done})


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "offer", "title", "unit", "unit_price", "quantity", "line_total", "claims")


class MerchantOrderEventInline(AuditInline):
    model = MerchantOrderEvent


@admin.register(MerchantOrder)
class MerchantOrderAdmin(admin.ModelAdmin):
    list_display = ("id", "order", "merchant", "status", "total", "refunded_amount")
    list_filter = ("status",)
    search_fields = ("id", "order__id", "merchant__shop_name")
    readonly_fields = ("order", "merchant", "status", "items_total", "delivery_fee", "total", "refunded_amount",
                       "commission", "service_fee",
                       "shipped_at", "delivered_at", "completed_at")
    inlines = [OrderLineInline, MerchantOrderEventInline]


class DisputeEventInline(AuditInline):
    model = DisputeEvent


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ("id", "merchant_order", "county", "reason", "requested_refund", "status", "respond_by")
    list_filter = ("status", "reason", "county")
    readonly_fields = ("merchant_order", "buyer", "county", "reason", "requested_refund", "text", "status",
                       "merchant_response", "respond_by", "escalate_at", "escalated_at", "resolved_at", "resolved_by",
                       "decision", "refund_amount")
    inlines = [DisputeEventInline]
    actions = ["escalate_due"]

    @admin.action(description=_("Escalate to the county if due"))
    def escalate_due(self, request, queryset):
        try:
            done = sum(1 for dispute in queryset if services.dispute_escalate(dispute_id=dispute.pk))
        except DomainError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return
        self.message_user(request, _("%(n)d dispute(s) escalated.") % {"n": done})


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("id", "merchant", "rating", "created_at")
    list_filter = ("rating",)
    readonly_fields = ("merchant_order", "merchant", "buyer", "rating", "created_at")


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    """Rules are kept here by admins; an order keeps the rates it was placed at (orders/commission.py),
    so a rule in force is ended (``effective_until``) and replaced rather than edited."""

    list_display = ("category", "county", "commission_rate", "service_fee_rate", "effective_from", "effective_until",
                    "note")
    list_filter = ("county",)
    list_select_related = ("category", "county")
    autocomplete_fields = ("county",)
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
