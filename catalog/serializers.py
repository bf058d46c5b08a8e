"""Input and output shapes of the catalog API."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.masking import mask_number, mask_phone
from merchants.serializers import RefuseProtectedFields, RegionBrief

from .models import Category, Claim, HarvestBatch, Product, ProductImage
from .selectors import ORDERINGS

PRICE = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal("0.01")}


class CategoryOutput(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "position"]


class ProductCreateInput(RefuseProtectedFields, serializers.Serializer):
    title = serializers.CharField(max_length=80)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    category = serializers.IntegerField(min_value=1)
    price = serializers.DecimalField(**PRICE)
    unit = serializers.CharField(max_length=16)
    stock = serializers.IntegerField(min_value=0, max_value=2_000_000_000, default=0)
    origin = serializers.IntegerField(min_value=1, help_text=_("Region id of a village in the shop's county."))
    perishable = serializers.BooleanField(default=False)
    cold_chain_required = serializers.BooleanField(default=False)
    shelf_life_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True,
                                               default=None)
    claims = serializers.ListField(child=serializers.ChoiceField(choices=Claim.choices), required=False, default=list,
                                   max_length=len(Claim.values))


class ProductUpdateInput(ProductCreateInput):
    """Every field optional; a change to price (beyond the threshold), claims (added) or what buyers
    read sends a listed product back to review, stock does not."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class ProductReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProductDelistInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StockAdjustInput(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000,
                                     help_text=_("Units to add (positive) or remove (negative)."))


class ImageInput(serializers.Serializer):
    image = serializers.FileField(help_text=_("JPEG, PNG or WebP; at most 5 MB."))
    position = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True, default=None)


class ImageOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "url", "position"]

    def get_url(self, image) -> str:
        return image.image.url


class OriginOutput(serializers.Serializer):
    village = serializers.SerializerMethodField()
    township = serializers.SerializerMethodField()
    county = serializers.SerializerMethodField()
    province = serializers.CharField()

    @extend_schema_field(RegionBrief)
    def get_village(self, region):
        return RegionBrief(region).data

    @extend_schema_field(RegionBrief(allow_null=True))
    def get_township(self, region):
        return RegionBrief(region.parent).data if region.parent_id else None

    @extend_schema_field(RegionBrief(allow_null=True))
    def get_county(self, region):
        return RegionBrief(region.county).data if region.county_id else None


class MerchantBrief(serializers.Serializer):
    id = serializers.IntegerField()
    shop_name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    county = RegionBrief()


class CategoryBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ProductListOutput(serializers.ModelSerializer):
    category = CategoryBrief()
    merchant = MerchantBrief()
    origin = OriginOutput()
    images = ImageOutput(many=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        model = Product
        fields = ["id", "title", "price", "unit", "stock", "category", "merchant", "origin", "claims", "perishable",
                  "cold_chain_required", "shelf_life_days", "images", "status", "sales_count", "rating_avg",
                  "rating_count", "created_at"]


class CredentialBrief(serializers.Serializer):
    kind = serializers.CharField()
    number = serializers.SerializerMethodField()
    issuer = serializers.CharField()
    expires_at = serializers.DateField(allow_null=True)

    def get_number(self, credential) -> str:
        return mask_number(credential.number)


class InspectionOutput(serializers.Serializer):
    agency = serializers.CharField(source="inspection_agency")
    inspected_at = serializers.DateField()
    result = serializers.CharField(source="inspection_result")
    report_url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_report_url(self, batch):
        return batch.inspection_report.url if batch.inspection_report else None


class ClaimEvidenceOutput(serializers.Serializer):
    claim = serializers.CharField()
    label = serializers.CharField()
    backed = serializers.BooleanField()
    credential = CredentialBrief(allow_null=True, help_text=_("The certificate behind the claim, number masked."))
    inspection = serializers.SerializerMethodField(help_text=_("The passed inspection behind pesticide_tested."))

    @extend_schema_field(InspectionOutput(allow_null=True))
    def get_inspection(self, evidence):
        return InspectionOutput(evidence.batch).data if evidence.batch is not None else None


class ProductOutput(ProductListOutput):
    claim_evidence = serializers.SerializerMethodField()

    class Meta(ProductListOutput.Meta):
        fields = ProductListOutput.Meta.fields + ["description", "claim_evidence", "updated_at"]

    @extend_schema_field(ClaimEvidenceOutput(many=True))
    def get_claim_evidence(self, product):
        return ClaimEvidenceOutput(self.context.get("evidence", []), many=True).data


class ProductListFilter(serializers.Serializer):
    search = serializers.CharField(required=False, max_length=100, allow_blank=True, default="")
    category = serializers.IntegerField(required=False, min_value=1, help_text=_("Includes its subcategories."))
    county = serializers.IntegerField(required=False, min_value=1)
    merchant = serializers.IntegerField(required=False, min_value=1)
    min_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False)
    max_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False)
    claim = serializers.ChoiceField(choices=Claim.choices, required=False)
    perishable = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False,
                                       help_text=_("price, -price, created, -created, sales (best sellers first); "
                                                   "by relevance when searching."))
    mine = serializers.BooleanField(required=False, default=False,
                                    help_text=_("The requesting merchant's own products in every status."))
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False,
                                     help_text=_("With mine=1 only."))

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": [_("max_price is below min_price.")]})
        return attrs


class ProductQueueFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False,
                                     default=Product.Status.PENDING_REVIEW)
    county = serializers.IntegerField(required=False, min_value=1)


class InspectionInput(serializers.Serializer):
    agency = serializers.CharField(max_length=100, required=False, allow_blank=True)
    inspected_at = serializers.DateField(required=False, allow_null=True)
    result = serializers.ChoiceField(choices=HarvestBatch.InspectionResult.choices, required=False)
    report = serializers.FileField(required=False, help_text=_("PDF or image of the report; at most 5 MB."))


class BatchInput(RefuseProtectedFields, serializers.Serializer):
    harvested_at = serializers.DateField()
    plot = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False,
                                        allow_null=True, default=None)
    inspection = InspectionInput(required=False, allow_null=True, default=None)


class BatchOutput(serializers.ModelSerializer):
    inspection = serializers.SerializerMethodField()
    trace_url = serializers.SerializerMethodField()
    qr_url = serializers.SerializerMethodField()

    class Meta:
        model = HarvestBatch
        fields = ["id", "product", "trace_code", "trace_url", "qr_url", "harvested_at", "plot", "quantity", "unit",
                  "inspection", "created_at"]

    @extend_schema_field(InspectionOutput(allow_null=True))
    def get_inspection(self, batch):
        return InspectionOutput(batch).data if batch.has_inspection else None

    def get_trace_url(self, batch) -> str:
        return f"/api/trace/{batch.trace_code}/"

    def get_qr_url(self, batch) -> str:
        return f"/api/trace/{batch.trace_code}/qr.png"


class TraceMerchantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    shop_name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    contact_phone = serializers.SerializerMethodField()

    def get_contact_phone(self, merchant) -> str:
        return mask_phone(merchant.contact_phone)


class TraceProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    category = CategoryBrief()
    unit = serializers.CharField()
    status = serializers.CharField()
    perishable = serializers.BooleanField()
    cold_chain_required = serializers.BooleanField()
    shelf_life_days = serializers.IntegerField(allow_null=True)


class TraceHarvestOutput(serializers.Serializer):
    harvested_at = serializers.DateField()
    plot = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    unit = serializers.CharField()


class TraceOutput(serializers.Serializer):
    trace_code = serializers.CharField()
    product = TraceProductOutput()
    merchant = TraceMerchantOutput()
    origin = OriginOutput()
    harvest = TraceHarvestOutput()
    inspection = InspectionOutput(allow_null=True)
    claims = ClaimEvidenceOutput(many=True)
    qr_url = serializers.CharField()
