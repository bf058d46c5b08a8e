import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.storage import public_storage
from core.transitions import StatusEvent
from merchants.models import Merchant


def new_stream_key() -> str:
    return secrets.token_urlsafe(24)


def new_playback_id() -> str:
    return secrets.token_urlsafe(12)


class Stream(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        LIVE = "live", _("live")
        ENDED = "ended", _("ended")
        CANCELLED = "cancelled", _("cancelled")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="streams")
    title = models.CharField(_("title"), max_length=100)
    cover = models.ImageField(_("cover"), upload_to="streams/covers/", blank=True, storage=public_storage)
    scheduled_at = models.DateTimeField(_("scheduled at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED,
                              db_index=True)
    # Secret: what the streamer's encoder pushes with. Never shown to anyone but the owner.
    stream_key = models.CharField(max_length=64, unique=True, default=new_stream_key)
    # Public: the name the media server publishes HLS under (the key is never in a playback URL).
    playback_id = models.CharField(max_length=32, unique=True, default=new_playback_id)
    products = models.ManyToManyField(Product, related_name="streams", blank=True)
    pinned_product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    peak_viewers = models.PositiveIntegerField(default=0)
    # An encoder is pushing right now (set by the media server's publish hook,
    # cleared by its unpublish hook). A second push of the key is refused meanwhile.
    ingest_active = models.BooleanField(default=False)
    ingest_addr = models.GenericIPAddressField(null=True, blank=True)
    # The owner's own banned words for this room's chat, on top of LIVE_CHAT_BANNED_WORDS
    # (livestream/services/banned_words.py).
    banned_words = models.JSONField(_("banned words"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_at", "pk"]
        verbose_name = _("live stream")
        verbose_name_plural = _("live streams")
        indexes = [models.Index(fields=["status", "-scheduled_at"], name="stream_status_scheduled")]

    def __str__(self):
        return self.title


class StreamEvent(StatusEvent):
    """Audit trail of a stream's status: scheduled, live, ended, cancelled."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("stream status change")
        verbose_name_plural = _("stream status changes")


class Offer(models.Model):
    """A flash offer: units set aside from the product's stock, sold at a price while live."""

    class Status(models.TextChoices):
        LIVE = "live", _("live")
        ENDED = "ended", _("ended")

    class EndReason(models.TextChoices):
        SOLD_OUT = "sold_out", _("sold out")
        EXPIRED = "expired", _("expired")
        STREAM_ENDED = "stream_ended", _("stream ended")
        CANCELLED = "cancelled", _("cancelled")

    stream = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="offers")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="offers")
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    # Units of the allocation not yet reserved by an order. Changed only by a
    # conditional UPDATE (remaining >= n); the Redis gate mirrors it.
    remaining = models.PositiveIntegerField(_("remaining"))
    per_buyer_limit = models.PositiveIntegerField(_("per-buyer limit"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.LIVE, db_index=True)
    end_reason = models.CharField(_("end reason"), max_length=16, choices=EndReason.choices, blank=True)
    starts_at = models.DateTimeField(_("starts"), auto_now_add=True)
    ends_at = models.DateTimeField(_("ends"))
    ended_at = models.DateTimeField(null=True, blank=True)
    # Unsold units handed back to the product's stock when the offer ended
    # (``remaining`` is zeroed at that moment so nothing can sell them twice).
    returned = models.PositiveIntegerField(_("returned to stock"), default=0)

    class Meta:
        ordering = ["-starts_at", "pk"]
        verbose_name = _("flash offer")
        verbose_name_plural = _("flash offers")
        constraints = [
            models.CheckConstraint(condition=models.Q(remaining__gte=0), name="offer_remaining_not_negative"),
            models.CheckConstraint(condition=models.Q(remaining__lte=models.F("quantity")),
                                   name="offer_remaining_within_quantity"),
            models.UniqueConstraint(fields=["stream", "product"], condition=models.Q(status="live"),
                                    name="offer_one_live_per_product"),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="offer_status_ends")]

    @property
    def sold(self) -> int:
        return self.quantity - self.remaining - self.returned

    def __str__(self):
        return f"{self.product} @ {self.price}"


class ChatMessage(models.Model):
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=200)
    deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("chat message")
        indexes = [models.Index(fields=["stream", "-created_at"])]


class ChatMute(models.Model):
    """A user the stream's owner silenced in that stream's chat."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    muted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("muted chatter")
        verbose_name_plural = _("muted chatters")
        constraints = [models.UniqueConstraint(fields=["stream", "user"], name="chat_mute_once")]
