import base64
import secrets
import uuid
from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.storage import private_storage, public_storage
from core.transitions import StatusEvent
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
    # The price the county last approved (set when the product is listed): every later change of
    # price is measured against it, so small steps cannot walk the price past the review threshold.
    reviewed_price = models.DecimalField(_("reviewed price"), max_digits=10, decimal_places=2, null=True,
                                         blank=True, editable=False)
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
    # Search: the segmented words (jieba, characters, pinyin) written by catalog.search on
    # every write; the tsvector has a GIN index on PostgreSQL (migration 0003), the
    # plain text serves the SQLite fallback.
    search_document = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

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


class ProductEvent(StatusEvent):
    """Audit trail of a product: reviews, returns to review, delisting, withdrawn claims."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("product decision")
        verbose_name_plural = _("product decisions")


def _random_path(folder: str, filename: str) -> str:
    suffix = filename[filename.rfind("."):].lower()[:6] if "." in filename else ""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def product_image_upload_to(instance, filename: str) -> str:
    return _random_path("catalog/products", filename)


def inspection_report_upload_to(instance, filename: str) -> str:
    return _random_path("catalog/inspections", filename)


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to=product_image_upload_to, max_length=200,
                              storage=public_storage)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")


def new_trace_code() -> str:
    """128 random bits in Crockford-free base32 (A-Z, 2-7): unguessable, and QR alphanumeric-friendly."""

    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")


class HarvestBatch(models.Model):
    """One harvest of a product, with its inspection; its trace code is printed on the label."""

    class InspectionResult(models.TextChoices):
        PASS = "pass", _("passed")
        FAIL = "fail", _("failed")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    trace_code = models.CharField(_("trace code"), max_length=32, unique=True, default=new_trace_code,
                                  editable=False)
    harvested_at = models.DateField(_("harvested on"))
    plot = models.CharField(_("plot"), max_length=100, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, null=True, blank=True,
                                   validators=[MinValueValidator(Decimal("0.01"))])
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    inspection_agency = models.CharField(_("inspection agency"), max_length=100, blank=True)
    inspected_at = models.DateField(_("inspected on"), null=True, blank=True)
    inspection_result = models.CharField(_("inspection result"), max_length=8, choices=InspectionResult.choices,
                                         blank=True)
    inspection_report = models.FileField(_("inspection report"), upload_to=inspection_report_upload_to,
                                         blank=True, max_length=200, storage=private_storage)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-harvested_at", "-pk"]
        verbose_name = _("harvest batch")
        verbose_name_plural = _("harvest batches")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__isnull=True) | models.Q(quantity__gt=0),
                                   name="batch_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.product} · {self.harvested_at} · {self.trace_code}"

    @property
    def has_inspection(self) -> bool:
        return bool(self.inspection_result)

    @property
    def passed_inspection(self) -> bool:
        return self.inspection_result == self.InspectionResult.PASS
