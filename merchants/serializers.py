"""Input and output shapes of the merchants API. No logic beyond shape and masking."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.validators import phone_validator
from core.masking import mask_number, mask_phone

from .models import Credential, Merchant, MerchantEvent
from .services import CREDENTIAL_DECISIONS, DECISIONS

# Names a client may send but never set: they belong to the system or to reviewers.
PROTECTED_FIELDS = ("id", "status", "user", "owner", "merchant", "county", "rating_avg", "rating_count",
                    "followers_count", "created_at", "updated_at", "sales_count", "trace_code")


class RefuseProtectedFields:
    """Mass assignment is refused, not silently ignored: a 400 names each protected field sent."""

    def to_internal_value(self, data):
        sent = [name for name in PROTECTED_FIELDS if hasattr(data, "keys") and name in data]
        if sent:
            raise serializers.ValidationError({name: [_("This field cannot be written.")] for name in sent})
        return super().to_internal_value(data)


class MerchantApplyInput(RefuseProtectedFields, serializers.Serializer):
    shop_name = serializers.CharField(max_length=100)
    village = serializers.IntegerField(min_value=1, help_text=_("Region id of a village."))
    kind = serializers.ChoiceField(choices=Merchant.Kind.choices)
    contact_phone = serializers.CharField(max_length=11, validators=[phone_validator])
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    logo = serializers.FileField(required=False, help_text=_("JPEG, PNG or WebP image."))


class MerchantUpdateInput(RefuseProtectedFields, serializers.Serializer):
    shop_name = serializers.CharField(max_length=100, required=False)
    village = serializers.IntegerField(min_value=1, required=False)
    kind = serializers.ChoiceField(choices=Merchant.Kind.choices, required=False)
    contact_phone = serializers.CharField(max_length=11, validators=[phone_validator], required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    logo = serializers.FileField(required=False)


class MerchantReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(DECISIONS))
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MerchantResubmitInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RegionBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()


class CredentialOutput(serializers.ModelSerializer):
    number = serializers.SerializerMethodField(help_text=_("Masked for anyone but the owner and county staff."))
    has_file = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField(help_text=_("Download path (owner and county staff only)."))

    class Meta:
        model = Credential
        fields = ["id", "kind", "number", "issuer", "issued_at", "expires_at", "status", "has_file", "file_url",
                  "created_at"]

    def _privileged(self) -> bool:
        return bool(self.context.get("privileged"))

    def get_number(self, credential) -> str:
        return credential.number if self._privileged() else mask_number(credential.number)

    def get_has_file(self, credential) -> bool:
        return bool(credential.file)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_file_url(self, credential):
        if not (credential.file and self._privileged()):
            return None
        return f"/api/merchants/{credential.merchant_id}/credentials/{credential.pk}/file/"


class MerchantListOutput(serializers.ModelSerializer):
    village = RegionBrief()
    county = RegionBrief()
    followers_count = serializers.IntegerField()
    logo = serializers.SerializerMethodField()

    class Meta:
        model = Merchant
        fields = ["id", "shop_name", "kind", "status", "village", "county", "logo", "rating_avg", "rating_count",
                  "followers_count", "created_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_logo(self, merchant):
        return merchant.logo.url if merchant.logo else None


class MerchantOutput(MerchantListOutput):
    township = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField(help_text=_("Masked for anyone but the owner and county staff."))
    is_following = serializers.SerializerMethodField()
    credentials = serializers.SerializerMethodField(help_text=_("Verified, unexpired credentials (owner and staff: all)."))
    review_reason = serializers.SerializerMethodField(help_text=_("Reason of the last decision (owner and staff)."))

    class Meta(MerchantListOutput.Meta):
        fields = MerchantListOutput.Meta.fields + ["township", "contact_phone", "description", "is_following",
                                                   "credentials", "review_reason", "updated_at"]

    @extend_schema_field(RegionBrief(allow_null=True))
    def get_township(self, merchant):
        parent = merchant.village.parent
        return RegionBrief(parent).data if parent else None

    def get_contact_phone(self, merchant) -> str:
        return merchant.contact_phone if self.context.get("privileged") else mask_phone(merchant.contact_phone)

    def get_is_following(self, merchant) -> bool:
        return bool(getattr(merchant, "is_following", False))

    @extend_schema_field(CredentialOutput(many=True))
    def get_credentials(self, merchant):
        return CredentialOutput(self.context.get("credentials", []), many=True, context=self.context).data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_review_reason(self, merchant):
        if not self.context.get("privileged"):
            return None
        event = self.context.get("last_decision")
        return event.reason if event else None


class MerchantEventOutput(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = MerchantEvent
        fields = ["id", "from_status", "to_status", "reason", "actor", "created_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event):
        return event.actor.username if event.actor_id else None


class MerchantListFilter(serializers.Serializer):
    county = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.ChoiceField(choices=Merchant.Kind.choices, required=False)
    search = serializers.CharField(required=False, max_length=50, allow_blank=True, default="")
    following = serializers.BooleanField(required=False, default=False)


class MerchantQueueFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Merchant.Status.choices, required=False, default=Merchant.Status.SUBMITTED)
    county = serializers.IntegerField(required=False, min_value=1)


class CredentialInput(RefuseProtectedFields, serializers.Serializer):
    kind = serializers.ChoiceField(choices=Credential.Kind.choices)
    number = serializers.CharField(max_length=64)
    issuer = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    issued_at = serializers.DateField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateField(required=False, allow_null=True, default=None)
    file = serializers.FileField(required=False, help_text=_("JPEG, PNG or WebP image, or PDF; at most 5 MB."))


class CredentialReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(CREDENTIAL_DECISIONS))
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FollowOutput(serializers.Serializer):
    following = serializers.BooleanField()
    followers_count = serializers.IntegerField()
