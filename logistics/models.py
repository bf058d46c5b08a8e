from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.transitions import StatusEvent
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


class Courier(models.Model):
    """A person who drives the county's runs: a user of role ``courier`` (scan and carry only)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courier",
                                verbose_name=_("user"))
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="couriers",
                               limit_choices_to={"level": Region.Level.COUNTY}, verbose_name=_("county"))
    township = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 limit_choices_to={"level": Region.Level.TOWNSHIP}, verbose_name=_("home township"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["county", "user__username"]
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")

    def __str__(self):
        return str(self.user)

    def clean(self):
        if self.user_id and (self.user.role != "courier" or self.user.county_id != self.county_id):
            raise ValidationError({"user": _("A courier is a courier account of the same county.")})
        if self.township_id and self.township.county_id != self.county_id:
            raise ValidationError({"township": _("The township must be in the courier's county.")})


class Vehicle(models.Model):
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="vehicles",
                               limit_choices_to={"level": Region.Level.COUNTY}, verbose_name=_("county"))
    plate = models.CharField(_("plate"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    cold_chain = models.BooleanField(_("cold chain"), default=False, help_text=_("Refrigerated."))
    capacity_kg = models.DecimalField(_("capacity (kg)"), max_digits=8, decimal_places=2)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["county", "plate"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [models.CheckConstraint(condition=models.Q(capacity_kg__gt=0), name="vehicle_capacity_positive")]

    def __str__(self):
        return f"{self.plate} {self.name}".strip()


class Leg(models.TextChoices):
    """The stretch of road that ends at a route stop; each has its own target time."""

    PICKUP = "pickup", _("pickup")
    FIRST_MILE = "first_mile", _("to the township station")
    TO_COUNTY_CENTRE = "to_county_centre", _("to the county centre")
    INTER_COUNTY = "inter_county", _("between counties")
    TO_TOWNSHIP_STATION = "to_township_station", _("to the destination township station")
    LAST_MILE = "last_mile", _("last mile")


class Dispatch(models.Model):
    """A joint-distribution run: many merchants' parcels in one vehicle."""

    class Kind(models.TextChoices):
        TRUNK = "trunk", _("trunk run to a hub")
        LAST_MILE = "last_mile", _("delivery round")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        DEPARTED = "departed", _("departed")
        ARRIVED = "arrived", _("arrived")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Trunk: where the run goes. Delivery round: the township station it leaves from.
    destination_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+", verbose_name=_("hub"))
    township = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("township"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="dispatches")
    courier = models.ForeignKey(Courier, null=True, blank=True, on_delete=models.PROTECT, related_name="dispatches")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED,
                              db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        indexes = [models.Index(fields=["county", "status"])]

    def __str__(self):
        return f"#{self.pk} → {self.destination_hub}"


class DispatchEvent(StatusEvent):
    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="events")


class Shipment(models.Model):
    """A merchant order's parcels on their way through the county network."""

    class Status(models.TextChoices):
        CREATED = "created", _("created")
        PICKED_UP = "picked_up", _("picked up")
        AT_COUNTY_CENTRE = "at_county_centre", _("at the county centre")
        AT_TOWNSHIP_STATION = "at_township_station", _("at the township station")
        OUT_FOR_DELIVERY = "out_for_delivery", _("out for delivery")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("delivery failed")
        RETURNED = "returned", _("returned to the merchant")

    class FailureReason(models.TextChoices):
        RECIPIENT_ABSENT = "recipient_absent", _("recipient absent")
        REFUSED = "refused", _("refused")
        ADDRESS_WRONG = "address_wrong", _("address wrong")

    TERMINAL = (Status.DELIVERED, Status.RETURNED)

    merchant_order = models.OneToOneField("orders.MerchantOrder", on_delete=models.PROTECT, related_name="shipment")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shipments_to_me")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="shipments")
    # A shipment belongs to the counties it passes through: one, or two across counties.
    origin_county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    destination_county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    destination_village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    parcel_count = models.PositiveSmallIntegerField(_("parcels"), default=1)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=8, decimal_places=2)
    perishable = models.BooleanField(_("perishable"), default=False)
    cold_chain = models.BooleanField(_("needs cold chain"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.CREATED,
                              db_index=True)
    # Position on the route: index of the last stop reached (-1 before pickup).
    stop_index = models.SmallIntegerField(default=-1)
    current_hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    next_hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    current_dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="on_board")
    due_at = models.DateTimeField(_("current leg due"), null=True, blank=True)
    expected_delivery_at = models.DateTimeField(_("expected delivery"), null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(_("inter-county carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=6)
    pickup_code_failures = models.PositiveSmallIntegerField(default=0)
    pickup_code_locked_until = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    failure_reason = models.CharField(max_length=20, choices=FailureReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        indexes = [
            models.Index(fields=["origin_county", "status"]),
            models.Index(fields=["destination_county", "status"]),
            models.Index(fields=["due_at"], condition=models.Q(overdue_flagged_at__isnull=True)
                         & ~models.Q(status__in=["delivered", "returned"]), name="shipment_due_unflagged"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight_kg__gt=0), name="shipment_weight_positive"),
            models.CheckConstraint(condition=models.Q(parcel_count__gte=1), name="shipment_has_parcels"),
        ]

    def __str__(self):
        return f"#{self.pk} ({self.get_status_display()})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class ShipmentStop(models.Model):
    """One hub on a shipment's route, in order, with the leg that leads to it."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="stops")
    index = models.PositiveSmallIntegerField()
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    leg = models.CharField(max_length=24, choices=Leg.choices)
    arrival_status = models.CharField(max_length=24, choices=Shipment.Status.choices)
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shipment", "index"]
        constraints = [models.UniqueConstraint(fields=["shipment", "index"], name="stop_once_per_position")]


class ShipmentEvent(StatusEvent):
    """A tracking event: status, hub, actor, time, note (and the run it was part of)."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        SCAN = "scan", _("scan")
        DEPARTED = "departed", _("departed")
        ARRIVED = "arrived", _("arrived")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.SCAN)
    hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta(StatusEvent.Meta):
        indexes = [models.Index(fields=["shipment", "created_at"])]


class DispatchItem(models.Model):
    """Which shipments a run carried (kept after they leave it)."""

    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="items")
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="dispatch_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dispatch", "shipment"], name="dispatch_item_once")]
