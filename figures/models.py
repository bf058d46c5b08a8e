"""Daily rollups the figure endpoints read (figures.rollups keeps them; never scanned per request)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2, "default": 0}


class MerchantDay(models.Model):
    """One shop's day (Asia/Shanghai): orders paid that day, deliveries and disputes of that day."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    county = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0)
    repeat_orders = models.PositiveIntegerField(default=0)  # by a buyer who had paid the shop before
    units = models.PositiveIntegerField(default=0)
    gmv = models.DecimalField(**MONEY)
    delivered = models.PositiveIntegerField(default=0)
    delivered_on_time = models.PositiveIntegerField(default=0)
    disputes = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("shop day")
        verbose_name_plural = _("shop days")
        constraints = [models.UniqueConstraint(fields=["merchant", "day"], name="merchant_day_once")]
        indexes = [models.Index(fields=["county", "day"])]


class ProductDay(models.Model):
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    units = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("product day")
        verbose_name_plural = _("product days")
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="product_day_once")]
        indexes = [models.Index(fields=["merchant", "day"])]
