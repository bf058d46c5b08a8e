from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InteractionEvent(models.Model):
    """One thing a buyer did (core.interactions notes it; recording.interactions_drain keeps it).
    Kept for INSIGHTS_RETENTION_DAYS; the buyer sees and clears them (PIPL)."""

    class Kind(models.TextChoices):
        VIEW = "view", _("product viewed")
        STREAM_JOIN = "stream_join", _("stream joined")
        WATCH = "watch", _("watch time")
        FOLLOW = "follow", _("shop followed")
        CART_ADD = "cart_add", _("added to cart")
        ORDER = "order", _("ordered")
        PAID = "paid", _("paid")
        REVIEW = "review", _("reviewed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    merchant = models.ForeignKey("merchants.Merchant", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    stream = models.ForeignKey("livestream.Stream", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Watch seconds, units added or ordered, a review's rating.
    value = models.IntegerField(_("value"), default=0)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["user", "-at"]), models.Index(fields=["stream", "kind"])]


class BuyerProfile(models.Model):
    """What the nightly build learnt of a buyer's interests, and the buyer's choices about it.
    Shown to its owner only, never to a shop."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Off: nothing more is kept of what the buyer does, and "for you" answers the cold start.
    personalised = models.BooleanField(_("personalised matching"), default=True)
    # On: a matched shop may tell the buyer it goes live even when the buyer does not follow it.
    match_alerts = models.BooleanField(_("go-live alerts from matched shops"), default=False)
    interests = models.JSONField(_("interests"), default=dict, blank=True)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)

    class Meta:
        verbose_name = _("buyer profile")
        verbose_name_plural = _("buyer profiles")


class Recommendation(models.Model):
    """The nightly build's ranked products for a buyer (filtered again when read)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="recommendation_once")]


class SimilarProduct(models.Model):
    """A product's neighbours: bought together (item-item) blended with content similarity."""

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    neighbour = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["product", "neighbour"], name="similar_once")]


class PopularProduct(models.Model):
    """Cold start: what sells in a province ('' for everywhere) in a month of the year."""

    province = models.CharField(max_length=50, blank=True)
    month = models.PositiveSmallIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["province", "month", "product"], name="popular_once")]
        indexes = [models.Index(fields=["province", "month", "-score"])]
