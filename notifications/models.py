"""What people are told, and the outbox that carries it to their socket and phone.

A ``Notification`` is the in-app message itself: once its transaction commits,
the user sees it in ``GET /api/notifications/``. Each other channel (socket push,
SMS) gets one ``Delivery`` row written in the same transaction: the outbox. A
worker claims pending rows, sends them and marks them sent, so a rollback tells
nobody and a commit loses nothing (docs/logistics-notifications.md).
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One thing a person is told, in-app; delivery to socket and SMS goes through the outbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    # "stream.live:42": a second notify with the same key for the same user is refused,
    # so a retried batch can never tell anyone twice.
    dedupe_key = models.CharField(_("deduplication key"), max_length=100, blank=True, default="")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""),
                                    name="notification_once_per_key"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """The outbox: one row per notification and channel, claimed and sent exactly once."""

    class Channel(models.TextChoices):
        PUSH = "push", _("socket push")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("skipped")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    # The idempotency key handed to the provider: it is how a restarted worker asks
    # "did this one go out before I was killed?".
    key = models.UUIDField(_("key"), default=uuid.uuid4, editable=False)
    not_before = models.DateTimeField(_("not before"), default=timezone.now,
                                      help_text=_("Quiet hours and retry back-off push this forward."))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True,
                              help_text=_("Why it was skipped, deferred or failed."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel"),
        ]
        indexes = [
            models.Index(fields=["channel", "not_before", "id"], condition=Q(state="pending"),
                         name="delivery_due"),
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="delivery_in_flight"),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self):
        return f"{self.channel} #{self.notification_id} ({self.state})"


class Preference(models.Model):
    """A person's say over SMS: off altogether, or not during their quiet hours."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    sms_enabled = models.BooleanField(_("SMS enabled"), default=True)
    quiet_hours_enabled = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=datetime.time(22, 0))
    quiet_end = models.TimeField(_("quiet until"), default=datetime.time(8, 0))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user}"


class FanOut(models.Model):
    """Progress of one large broadcast (a shop going live to its followers), batch by batch.

    The cursor moves in the same transaction as each batch's notifications, so a
    retried or resumed batch starts exactly where the last committed one ended.
    """

    kind = models.CharField(_("kind"), max_length=64)
    key = models.CharField(_("key"), max_length=64)
    cursor = models.BigIntegerField(_("cursor"), default=0)
    notified = models.PositiveIntegerField(_("notified"), default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("fan-out")
        verbose_name_plural = _("fan-outs")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="fanout_once")]
        indexes = [models.Index(fields=["updated_at"], condition=Q(finished_at__isnull=True),
                                name="fanout_unfinished")]

    def __str__(self):
        return f"{self.kind}:{self.key}"
