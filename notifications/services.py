"""Telling people things. Every domain event that concerns a person calls ``notify``.

The notification row is written in the caller's transaction, so a rollback
tells nobody and a commit loses nothing. (The logistics issue adds the outbox
that delivers each row to the user's socket and by SMS, exactly once.)
"""

from __future__ import annotations

from django.utils import translation

from .models import Notification
from .texts import render


def notify(*, user, kind: str, params: dict | None = None) -> Notification:
    params = params or {}
    with translation.override(getattr(user, "language", None) or "zh-hans"):
        title, body = render(kind, params)
    return Notification.objects.create(user=user, kind=kind, params=params, title=title, body=body)
