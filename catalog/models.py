from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant
from regions.models import Region


class Category(models.Model):
    name = models.CharField(_("name"), max_length=50)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


class Claim(models.TextChoices):
    ORGANIC = "organic", _("organic")
    GREEN_FOOD = "green_food", _("green food")
    GEO_INDICATION = "geo_indication", _("geographical indication")
    PESTICIDE_TESTED = "pesticide_tested", _("pesticide tested")


class Product(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("pending review")
        LISTED = "listed", _("listed")
        REJECTED = "rejected", _("rejected")
        DELISTED = "delisted", _("delisted")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products")
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2,
                                validators=[MinValueValidator(Decimal("0.01"))])
    unit = models.CharField(_("unit"), max_length=16)
    # Units on hand and not reserved. Only ever changed by a conditional UPDATE
    # (catalog.stock), never read-modify-written in Python.
    stock = models.PositiveIntegerField(_("stock"), default=0)
    origin = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="products", verbose_name=_("origin"))
    perishable = models.BooleanField(_("perishable"), default=False)
    cold_chain_required = models.BooleanField(_("needs cold chain"), default=False)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    claims = models.JSONField(_("claims"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING_REVIEW,
                              db_index=True)
    sales_count = models.PositiveIntegerField(_("units sold"), default=0)
    rating_avg = models.DecimalField(_("rating"), max_digits=3, decimal_places=2, default=Decimal("0"))
    rating_count = models.PositiveIntegerField(_("ratings"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive"),
        ]
        indexes = [models.Index(fields=["status", "merchant"])]

    def __str__(self):
        return self.title
