"""Staff screens: the product review queue (filter by county and status) and the catalogue's tables."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.adminkit import AuditInline, ReasonActionForm, county_scoped, decision_actions

from . import services
from .models import Category, HarvestBatch, Product, ProductEvent, ProductImage


def _product_decide(product, *, request, decision, reason):
    if decision == "delist":
        return services.product_delist(product_id=product.pk, user=request.user, reason=reason)
    return services.product_review(product_id=product.pk, actor=request.user, decision=decision, reason=reason)


class ProductEventInline(AuditInline):
    model = ProductEvent


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    readonly_fields = ("image", "position")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "merchant", "county", "category", "price", "stock", "claims", "status", "updated_at")
    list_filter = ("status", "merchant__county", "category", "perishable")
    search_fields = ("title", "merchant__shop_name")
    readonly_fields = ("merchant", "status", "stock", "claims", "sales_count", "rating_avg", "rating_count",
                       "created_at", "updated_at")
    exclude = ("search_document", "search_vector")
    raw_id_fields = ("origin",)
    inlines = [ProductImageInline, ProductEventInline]
    action_form = ReasonActionForm
    actions = decision_actions("product", {
        "approve": _("List selected products"),
        "reject": _("Reject selected products (reason)"),
        "delist": _("Delist selected products (reason)"),
    }, _product_decide)
    list_select_related = ("merchant", "merchant__county", "category")

    @admin.display(description=_("county"), ordering="merchant__county")
    def county(self, product):
        return product.merchant.county

    def get_queryset(self, request):
        return county_scoped(super().get_queryset(request), request, "merchant__county_id")

    def has_add_permission(self, request):
        return False  # shops list products through the API

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.product_search_index(product_id=obj.pk)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent", "position")
    list_filter = ("parent",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            services.products_reindex_for_category(category_id=obj.pk)


@admin.register(HarvestBatch)
class HarvestBatchAdmin(admin.ModelAdmin):
    list_display = ("trace_code", "product", "harvested_at", "inspection_result", "created_at")
    list_filter = ("inspection_result", "product__merchant__county")
    search_fields = ("trace_code", "product__title")
    readonly_fields = ("trace_code", "product", "created_at")

    def has_add_permission(self, request):
        return False
