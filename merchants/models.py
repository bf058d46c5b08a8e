import uuid
from decimal import Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.validators import phone_validator
from core.sealing import SealedCharField, lookup_digest
from core.storage import private_storage, public_storage
from core.transitions import StatusEvent
from regions.models import Region


class Merchant(models.Model):
    """A farmer's, cooperative's or rural company's shop, vetted by its county."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("individual farmer")
        COOPERATIVE = "cooperative", _("cooperative")
        COMPANY = "company", _("company")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        SUSPENDED = "suspended", _("suspended")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="merchant")
    shop_name = models.CharField(_("shop name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="merchants", verbose_name=_("village"))
    # Denormalised from the village: every vetting and scoping question is "which county?".
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    contact_phone = models.CharField(_("contact phone"), max_length=11, validators=[phone_validator])
    description = models.TextField(_("description"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="merchants/logos/", blank=True, storage=public_storage)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED,
                              db_index=True)
    rating_avg = models.DecimalField(_("rating"), max_digits=3, decimal_places=2, default=Decimal("0"))
    rating_count = models.PositiveIntegerField(_("ratings"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["-created_at", "pk"]
        indexes = [models.Index(fields=["county", "status"])]

    def __str__(self):
        return self.shop_name

    def save(self, *args, **kwargs):
        if self.village_id:
            self.county_id = Region.objects.values_list("county_id", flat=True).get(pk=self.village_id)
        super().save(*args, **kwargs)

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class MerchantEvent(StatusEvent):
    """Audit trail of vetting decisions: who, when, from, to, why."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("merchant decision")
        verbose_name_plural = _("merchant decisions")


class Follow(models.Model):
    """A consumer follows a shop; followers are told when it goes live."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="follow_once")]
        verbose_name = _("follow")


def credential_upload_to(instance, filename: str) -> str:
    # The name is never taken from the client: a random one, under a private prefix
    # that production storage must not serve publicly (files go out through the API).

    suffix = PurePosixPath(filename).suffix.lower()[:6]
    return f"private/credentials/{instance.merchant_id}/{uuid.uuid4().hex}{suffix}"


class Credential(models.Model):
    """A document a shop holds (identity, licence, certificate), checked by its county."""

    class Kind(models.TextChoices):
        ID_CARD = "id_card", _("resident ID card")
        BUSINESS_LICENSE = "business_license", _("business licence")
        FOOD_LICENSE = "food_license", _("food business licence")
        ORGANIC_CERT = "organic_cert", _("organic certificate")
        GREEN_FOOD_CERT = "green_food_cert", _("green food certificate")
        GEO_INDICATION = "geo_indication", _("geographical indication authorisation")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending verification")
        APPROVED = "approved", _("verified")
        REJECTED = "rejected", _("rejected")
        EXPIRED = "expired", _("expired")
        REVOKED = "revoked", _("revoked")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # Sealed at rest (core/sealing.py); ``number_digest`` finds a credential by its exact number.
    number = SealedCharField(_("number"))
    number_digest = models.CharField(max_length=64, db_index=True, editable=False, default="")
    issuer = models.CharField(_("issuer"), max_length=100, blank=True)
    issued_at = models.DateField(_("issued on"), null=True, blank=True)
    # Valid through this day (Asia/Shanghai); empty for long-term documents.
    expires_at = models.DateField(_("expires on"), null=True, blank=True, db_index=True)
    file = models.FileField(_("file"), upload_to=credential_upload_to, blank=True, max_length=200,
                            storage=private_storage)
    file_content_type = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    # Expiry reminders, each sent exactly once (set by a conditional UPDATE).
    reminded_30_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_7_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        indexes = [models.Index(fields=["merchant", "kind", "status"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.merchant}"

    def save(self, *args, **kwargs):
        self.number_digest = lookup_digest(self.number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "number_digest"}
        super().save(*args, **kwargs)

    def is_valid_on(self, day) -> bool:
        """Verified and not past its expiry date on ``day``."""
        return self.status == self.Status.APPROVED and (self.expires_at is None or self.expires_at >= day)


class CredentialEvent(StatusEvent):
    """Audit trail of credential decisions (verification, rejection, expiry, revocation)."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("credential decision")
        verbose_name_plural = _("credential decisions")
