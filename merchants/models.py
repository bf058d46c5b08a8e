from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.validators import phone_validator
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
    logo = models.ImageField(_("logo"), upload_to="merchants/logos/", blank=True)
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
