from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A node of the three-level tree: county → township → village."""

    class Level(models.TextChoices):
        COUNTY = "county", _("county")
        TOWNSHIP = "township", _("township")
        VILLAGE = "village", _("village")

    PARENT_LEVEL = {Level.COUNTY: None, Level.TOWNSHIP: Level.COUNTY, Level.VILLAGE: Level.TOWNSHIP}

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("Administrative division code"))
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    # The county a region belongs to (itself for a county): scoping by county
    # is the most common question every app asks, so it is one indexed column.
    county = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    province = models.CharField(_("province"), max_length=50, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [models.Index(fields=["level", "parent"])]

    def __str__(self):
        return self.name

    def clean(self):
        expected = self.PARENT_LEVEL.get(self.level)
        if expected is None and self.parent_id:
            raise ValidationError({"parent": _("A county has no parent region.")})
        if expected is not None and (self.parent is None or self.parent.level != expected):
            raise ValidationError(
                {"parent": _("The parent of a %(level)s must be a %(expected)s.") % {
                    "level": self.get_level_display(), "expected": self.Level(expected).label}}
            )

    def save(self, *args, **kwargs):
        self.full_clean(exclude=["county"])
        if self.level == self.Level.COUNTY:
            super().save(*args, **kwargs)
            if self.county_id != self.pk:
                self.county_id = self.pk
                super().save(update_fields=["county"])
            return
        self.county_id = self.parent.county_id
        super().save(*args, **kwargs)

    @property
    def township_id(self):
        if self.level == self.Level.VILLAGE:
            return self.parent_id
        return self.pk if self.level == self.Level.TOWNSHIP else None
