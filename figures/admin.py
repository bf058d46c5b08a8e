from django.contrib import admin

from core.adminkit import ReadOnlyAdmin

from .models import MerchantDay, ProductDay


@admin.register(MerchantDay)
class MerchantDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "merchant", "orders", "gmv", "units", "delivered", "disputes"]
    raw_id_fields = ["merchant", "county"]
    date_hierarchy = "day"


@admin.register(ProductDay)
class ProductDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "product", "units", "revenue"]
    raw_id_fields = ["merchant", "product"]
    date_hierarchy = "day"
