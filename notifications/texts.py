"""What each kind of notification says, translated into the reader's language.

Apps register their kinds in their ``notices.py``::

    register("shipment.delivered", _("Parcel delivered"), _("Order #%(order)s was collected."))

with ``%(name)s`` placeholders filled from the notification's params. A kind
also names the channels it goes out on besides the in-app list: socket push and
SMS by default; mass notices (a shop going live) pass ``channels=("push",)``.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

PUSH = "push"
SMS = "sms"
ALL_CHANNELS = (PUSH, SMS)


class NoticeKind(NamedTuple):
    title: object
    body: object
    channels: tuple[str, ...]


KINDS: dict[str, NoticeKind] = {}


def register(kind: str, title, body="", *, channels: tuple[str, ...] = ALL_CHANNELS) -> None:
    unknown = set(channels) - set(ALL_CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channels {sorted(unknown)} for {kind}")
    KINDS[kind] = NoticeKind(title, body, tuple(channels))


def channels_for(kind: str) -> tuple[str, ...]:
    notice = KINDS.get(kind)
    return notice.channels if notice else ALL_CHANNELS


def render(kind: str, params: dict) -> tuple[str, str]:
    """(title, body) in the active language; a missing parameter leaves the raw text, never a crash."""
    notice = KINDS.get(kind)
    title, body = (notice.title, notice.body) if notice else (_("Notification"), "")
    try:
        return str(title) % params, (str(body) % params if body else "")
    except (KeyError, TypeError, ValueError):
        return str(title), str(body)
