"""Chat in the live room: the rules for a line, and the owner's moderation.

A line is refused — with an ``error`` {code, message} to its sender only — when the
sender is not signed in, it is empty or longer than ``LIVE_CHAT_MAX_LENGTH``, it
contains a banned word, the room is closed, the sender is muted, or the sender
sent ``LIVE_CHAT_RATE_LIMIT`` lines in the last ``LIVE_CHAT_RATE_WINDOW_S`` seconds
(one atomic Redis counter per user and room).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, NotFound, ValidationFailed

from .. import events
from ..models import ChatMessage, ChatMute, Stream
from ..realtime import redis as room_redis
from ._common import owned_stream


class ChatRefused(DomainError):
    status = 400
    code = "chat_refused"
    default_message = _("This message cannot be sent.")


_RATE = """
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_rate_script = None


def chat_rate_hit(*, stream_id: int, user_id: int) -> bool:
    """Count one line; True while the user is within the limit."""
    global _rate_script
    window = settings.LIVE_CHAT_RATE_WINDOW_S
    key = f"{room_redis.prefix()}chat-rate:{stream_id}:{user_id}"
    if settings.REDIS_URL:
        if _rate_script is None:
            _rate_script = room_redis.sync_client().register_script(_RATE)
        count = _rate_script(keys=[key], args=[window * 1000])
    else:
        cache.add(key, 0, window)
        count = cache.incr(key)
    return count <= settings.LIVE_CHAT_RATE_LIMIT


def _banned_word_in(text: str) -> bool:
    folded = text.casefold()
    return any(word and word.casefold() in folded for word in settings.LIVE_CHAT_BANNED_WORDS)


def chat_payload(message: ChatMessage, *, user, host: bool) -> dict:
    return {"id": message.pk, "user": {"id": user.pk, "name": user.username, "host": host},
            "text": message.text, "at": message.created_at}


@transaction.atomic
def chat_send(*, stream_id: int, user, text) -> ChatMessage:
    if user is None or not user.is_authenticated:
        raise ChatRefused(_("Sign in to chat."), code="not_authenticated", status=401)
    text = (text if isinstance(text, str) else "").strip()
    if not text:
        raise ChatRefused(_("Write something first."), code="empty")
    if len(text) > settings.LIVE_CHAT_MAX_LENGTH:
        raise ChatRefused(_("A message can be at most %(n)d characters.") % {"n": settings.LIVE_CHAT_MAX_LENGTH},
                          code="too_long")
    if _banned_word_in(text):
        raise ChatRefused(_("Please keep the conversation and the sale on the platform."), code="banned_word")
    room = (Stream.objects.filter(pk=stream_id)
            .annotate(muted=Exists(ChatMute.objects.filter(stream_id=OuterRef("pk"), user_id=user.pk)))
            .values("status", "merchant__user_id", "muted").first())
    if room is None:
        raise NotFound(_("No such stream."))
    if room["status"] not in (Stream.Status.SCHEDULED, Stream.Status.LIVE):
        raise ChatRefused(_("The chat of this stream is closed."), code="chat_closed", status=409)
    if room["muted"]:
        raise ChatRefused(_("The host has muted you in this chat."), code="muted", status=403)
    if not chat_rate_hit(stream_id=stream_id, user_id=user.pk):
        raise ChatRefused(_("You are sending messages too fast; wait a few seconds."), code="rate_limited",
                          status=429)
    if connection.vendor == "postgresql":
        # A chat line is not money: do not make every line wait for the WAL flush. A
        # database crash may lose the last fraction of a second of chat, never an order.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    message = ChatMessage.objects.create(stream_id=stream_id, user=user, text=text)
    events.chat_message(stream_id=stream_id,
                        message=chat_payload(message, user=user, host=room["merchant__user_id"] == user.pk))
    return message


@transaction.atomic
def chat_message_delete(*, stream_id: int, message_id: int, actor) -> ChatMessage:
    """The owner (or a platform admin) takes a line down; every socket hears ``chat.deleted``."""
    owned_stream(stream_id=stream_id, actor=actor, allow_admin=True)
    message = ChatMessage.objects.select_for_update().filter(pk=message_id, stream_id=stream_id).first()
    if message is None:
        raise NotFound(_("No such message."))
    if not message.deleted:
        message.deleted, message.deleted_at, message.deleted_by = True, timezone.now(), actor
        message.save(update_fields=["deleted", "deleted_at", "deleted_by"])
        events.chat_deleted(stream_id=stream_id, message_id=message.pk)
    return message


def chat_mute(*, stream_id: int, user_id: int, actor) -> ChatMute:
    """The owner silences a user in this stream's chat (idempotent)."""
    with transaction.atomic():
        stream = owned_stream(stream_id=stream_id, actor=actor, allow_admin=True)
        if user_id == stream.merchant.user_id:
            raise ValidationFailed(_("The host cannot be muted."), fields={"user": [str(_("The host cannot be muted."))]})
        if not get_user_model().objects.filter(pk=user_id).exists():
            raise ValidationFailed(_("No such user."), fields={"user": [str(_("No such user."))]})
        existing = ChatMute.objects.filter(stream_id=stream_id, user_id=user_id).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                return ChatMute.objects.create(stream_id=stream_id, user_id=user_id, muted_by=actor)
        except IntegrityError:  # a concurrent mute of the same user won
            return ChatMute.objects.get(stream_id=stream_id, user_id=user_id)


@transaction.atomic
def chat_unmute(*, stream_id: int, user_id: int, actor) -> None:
    owned_stream(stream_id=stream_id, actor=actor, allow_admin=True)
    deleted, _counts = ChatMute.objects.filter(stream_id=stream_id, user_id=user_id).delete()
    if not deleted:
        raise NotFound(_("This user is not muted."))
