"""Selling the way farms sell, beyond the shelf: adoptions (认养) paid up front with their scheduled
deliveries, and pre-sales against a harvest plan. Every sale is an order of the orders app; these
tables hold what the orders do not: the offer, its cap, its schedule, which order serves which date."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.storage import public_storage
from merchants.models import Merchant
from orders.models import Order

MONEY = {"max_digits": 10, "decimal_places": 2}


class Adoption(models.Model):
    """A merchant's adoption offer: a tree, an animal or a plot share that sends its produce for a season."""

    class Kind(models.TextChoices):
        TREE = "tree", _("a tree")
        ANIMAL = "animal", _("an animal")
        PLOT = "plot", _("a plot share")

    class Every(models.TextChoices):
        WEEK = "week", _("every week")
        MONTH = "month", _("every month")
        ONCE = "once", _("the whole harvest at once")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="adoptions")
    # What each delivery sends (its order lines are of this product).
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="adoptions", verbose_name=_("product"))
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.TREE)
    season_from = models.DateField(_("season from"))
    season_to = models.DateField(_("season to"))
    every = models.CharField(_("deliveries"), max_length=8, choices=Every.choices)
    first_delivery = models.DateField(_("first delivery"))
    deliveries = models.PositiveSmallIntegerField(_("number of deliveries"))
    quantity = models.PositiveIntegerField(_("units per delivery"), default=1)
    price = models.DecimalField(_("price"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    cap = models.PositiveIntegerField(_("most adopters"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("adoption")
        verbose_name_plural = _("adoptions")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="adoption_price_positive"),
            models.CheckConstraint(condition=models.Q(cap__gte=1, deliveries__gte=1, quantity__gte=1),
                                   name="adoption_counts_positive"),
            models.CheckConstraint(condition=models.Q(season_to__gte=models.F("season_from")),
                                   name="adoption_season_ordered"),
        ]

    def __str__(self):
        return self.title

    def delivery_dates(self) -> list[datetime.date]:
        return delivery_dates(every=self.every, first=self.first_delivery, count=self.deliveries)


def delivery_dates(*, every: str, first: datetime.date, count: int) -> list[datetime.date]:
    """The dates of a schedule: ``count`` deliveries from ``first``, a week or a calendar month apart
    (a month from the 31st is the month's last day)."""
    if every == Adoption.Every.ONCE:
        return [first]
    dates = []
    for n in range(count):
        if every == Adoption.Every.WEEK:
            dates.append(first + datetime.timedelta(weeks=n))
        else:
            year, month = divmod(first.month - 1 + n, 12)
            year, month = first.year + year, month + 1
            last = (datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
            dates.append(datetime.date(year, month, min(first.day, last)))
    return dates


class Subscription(models.Model):
    """One consumer's adoption: paid up front by its own order; each delivery is an order of its own."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CANCELLED = "cancelled", _("cancelled")
        FINISHED = "finished", _("finished")

    adoption = models.ForeignKey(Adoption, on_delete=models.PROTECT, related_name="subscriptions")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adoptions")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="adoption_subscription")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE,
                              db_index=True)
    refunded = models.DecimalField(_("refunded"), **MONEY, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("adopter")
        verbose_name_plural = _("adopters")

    def __str__(self):
        return f"{self.adoption} · {self.buyer}"


class Delivery(models.Model):
    """One scheduled delivery of a subscription; ``order`` is set exactly once, on its date."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    seq = models.PositiveSmallIntegerField()
    due_on = models.DateField(_("due on"), db_index=True)
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="adoption_delivery")
    # Cancelled before its cut-off: refunded, never sent.
    skipped = models.BooleanField(default=False)

    class Meta:
        ordering = ["subscription", "seq"]
        verbose_name = _("scheduled delivery")
        verbose_name_plural = _("scheduled deliveries")
        constraints = [models.UniqueConstraint(fields=["subscription", "seq"], name="delivery_once_per_seq")]


def update_photo_upload_to(instance, filename: str) -> str:
    suffix = filename[filename.rfind("."):].lower()[:6] if "." in filename else ""
    return f"farming/updates/{uuid.uuid4().hex}{suffix}"


class AdoptionUpdate(models.Model):
    """The farmer's news for the adopters: a note, a photo."""

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="updates")
    note = models.TextField(_("note"), max_length=2000, blank=True)
    photo = models.ImageField(_("photo"), upload_to=update_photo_upload_to, blank=True, max_length=200,
                              storage=public_storage)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("adoption update")
        verbose_name_plural = _("adoption updates")

