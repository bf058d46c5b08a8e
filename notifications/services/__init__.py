"""Telling people things. Every domain event that concerns a person calls ``notify``.

``notify`` writes the in-app notification and one outbox row per further
channel (socket push, SMS) in the caller's transaction: a rollback tells nobody,
a commit loses nothing. After commit a worker is woken to deliver the outbox
(``services.outbox``); a beat sweep picks up anything a lost wake-up left behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from core.errors import NotFound

from ..models import Delivery, Notification, Preference
from ..texts import channels_for, render
from .fanout import AudienceBatch, broadcast_batch, broadcast_register, broadcast_start_on_commit  # noqa: F401
from .outbox import outbox_wake_on_commit

__all__ = [
    "notify", "notify_many", "notification_mark_read", "notifications_mark_all_read", "preference_update",
    "AudienceBatch", "broadcast_batch", "broadcast_register", "broadcast_start_on_commit",
]


def _language_of(user) -> str:
    return getattr(user, "language", None) or settings.LANGUAGE_CODE


def _rendered(kind: str, params: dict, language: str) -> tuple[str, str]:
    with translation.override(language):
        title, body = render(kind, params)
    return title[:200], body


def notify(*, user, kind: str, params: dict | None = None, dedupe_key: str = "") -> Notification:
    """Tell ``user`` about ``kind`` in their language, in-app now and by push/SMS after commit.

    With a ``dedupe_key`` the same user is told at most once for that key; the
    earlier notification is returned and nothing new is written.
    """
    params = params or {}
    title, body = _rendered(kind, params, _language_of(user))
    with transaction.atomic():
        if dedupe_key:
            existing = Notification.objects.filter(user=user, dedupe_key=dedupe_key).first()
            if existing:
                return existing
            try:
                with transaction.atomic():
                    notification = Notification.objects.create(
                        user=user, kind=kind, params=params, title=title, body=body, dedupe_key=dedupe_key)
            except IntegrityError:  # told concurrently by another transaction
                return Notification.objects.get(user=user, dedupe_key=dedupe_key)
        else:
            notification = Notification.objects.create(user=user, kind=kind, params=params, title=title, body=body)
        channels = channels_for(kind)
        Delivery.objects.bulk_create([Delivery(notification=notification, channel=c) for c in channels])
        outbox_wake_on_commit(channels)
    return notification


def notify_many(*, users: Iterable, kind: str, params: dict | None = None, dedupe_key: str = "") -> list[Notification]:
    """Tell many people the same thing in one go (bulk inserts); same guarantees as ``notify``.

    Texts are rendered once per language. With ``dedupe_key``, users already told
    for that key are skipped; returns the notifications written.
    """
    params = params or {}
    users = list(users)
    if dedupe_key and users:
        told = set(Notification.objects.filter(user__in=[u.pk for u in users], dedupe_key=dedupe_key)
                   .values_list("user_id", flat=True))
        users = [u for u in users if u.pk not in told]
    if not users:
        return []
    texts: dict[str, tuple[str, str]] = {}
    by_language = defaultdict(list)
    for user in users:
        by_language[_language_of(user)].append(user)
    for language in by_language:
        texts[language] = _rendered(kind, params, language)
    channels = channels_for(kind)
    with transaction.atomic():
        notifications = Notification.objects.bulk_create([
            Notification(user=user, kind=kind, params=params, dedupe_key=dedupe_key,
                         title=texts[_language_of(user)][0], body=texts[_language_of(user)][1])
            for user in users
        ])
        Delivery.objects.bulk_create(
            [Delivery(notification=n, channel=c) for n in notifications for c in channels], batch_size=2000)
        outbox_wake_on_commit(channels)
    return notifications


def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (again is harmless); another's answers 404."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def preference_update(*, user, **changes) -> Preference:
    preference, _created = Preference.objects.get_or_create(user=user)
    for field, value in changes.items():
        setattr(preference, field, value)
    if changes:
        preference.save()
    return preference
