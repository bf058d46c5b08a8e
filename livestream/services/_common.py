"""Lookups the services share: a stream as its owner sees it (404 for anyone else)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import NotFound

from ..models import Stream


def owned_stream(*, stream_id: int, actor, for_update: bool = False, allow_admin: bool = False) -> Stream:
    """The stream if ``actor`` owns it (or is a platform admin where allowed); else 404."""
    qs = Stream.objects.select_related("merchant")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    stream = qs.filter(pk=stream_id).first()
    if stream is None or actor is None or not actor.is_authenticated:
        raise NotFound(_("No such stream."))
    if stream.merchant.user_id == actor.pk or (allow_admin and actor.is_platform_admin):
        return stream
    raise NotFound(_("No such stream."))
