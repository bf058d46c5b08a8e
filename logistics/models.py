from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import Region


class Hub(models.Model):
    """A node of the county network: distribution centre, express station, service point."""

    class Kind(models.TextChoices):
        COUNTY_CENTRE = "county_centre", _("county distribution centre")
        TOWNSHIP_STATION = "township_station", _("township express station")
        VILLAGE_POINT = "village_point", _("village service point")

    LEVEL_OF_KIND = {
        Kind.COUNTY_CENTRE: Region.Level.COUNTY,
        Kind.TOWNSHIP_STATION: Region.Level.TOWNSHIP,
        Kind.VILLAGE_POINT: Region.Level.VILLAGE,
    }

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="hubs", verbose_name=_("region"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    cold_chain = models.BooleanField(_("cold chain"), default=False, help_text=_("Has refrigerated storage."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "kind", "code"]
        verbose_name = _("hub")
        verbose_name_plural = _("hubs")

    def __str__(self):
        return self.name

    def clean(self):
        expected = self.LEVEL_OF_KIND.get(self.kind)
        if self.region_id and expected and self.region.level != expected:
            raise ValidationError(
                {"region": _("A %(kind)s must stand in a %(level)s.") % {
                    "kind": self.get_kind_display(), "level": Region.Level(expected).label}}
            )
