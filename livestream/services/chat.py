"""Chat in the live room: the rules for a line, and the owner's moderation.

A line is refused — with an ``error`` {code, message} to its sender only — when the
sender is not signed in, it is empty or longer than ``LIVE_CHAT_MAX_LENGTH``, it
contains a banned word, the room is closed, the sender is muted, or the sender
sent ``LIVE_CHAT_RATE_LIMIT`` lines in the last ``LIVE_CHAT_RATE_WINDOW_S`` seconds
(one atomic Redis counter per user and room).

A line is stored and delivered, or neither: it is published right after its commit, and taken
back (deleted, the sender told ``service_unavailable``) if Redis did not take it. While Redis is
paused or away, lines are refused at once with ``service_unavailable`` (``realtime.redis.breaker``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, NotFound, ServiceUnavailable, ValidationFailed, sqlstate
from core.text import TextRefused, is_clean

from .. import events
from ..models import ChatMessage, ChatMute, Stream
from ..realtime import redis as room_redis
from ._common import owned_stream
from .banned_words import banned_word_in

logger = logging.getLogger(__name__)


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


def _rate_key(stream_id: int, user_id: int) -> str:
    return f"{room_redis.prefix()}chat-rate:{stream_id}:{user_id}"


def chat_rate_hits(pairs: list[tuple[int, int]]) -> list[bool]:
    """Count one line for each (stream, user); True where the user is still within the limit.

    One atomic Lua INCR+PEXPIRE per line, all in one Redis round trip.
    """
    global _rate_script
    if not pairs:
        return []
    window_ms = settings.LIVE_CHAT_RATE_WINDOW_S * 1000
    if settings.REDIS_URL:
        breaker = room_redis.breaker
        if not breaker.available():
            raise ServiceUnavailable()
        try:
            client = room_redis.sync_client()
            if _rate_script is None:
                _rate_script = client.register_script(_RATE)
            pipe = client.pipeline(transaction=False)
            for stream_id, user_id in pairs:
                _rate_script(keys=[_rate_key(stream_id, user_id)], args=[window_ms], client=pipe)
            counts = pipe.execute()
        except room_redis.REDIS_ERRORS as exc:
            breaker.failed(exc)
            raise ServiceUnavailable() from exc
        breaker.succeeded()
    else:
        counts = []
        for stream_id, user_id in pairs:
            cache.add(_rate_key(stream_id, user_id), 0, settings.LIVE_CHAT_RATE_WINDOW_S)
            counts.append(cache.incr(_rate_key(stream_id, user_id)))
    return [count <= settings.LIVE_CHAT_RATE_LIMIT for count in counts]


def chat_payload(message: ChatMessage, *, user, host: bool) -> dict:
    return {"id": message.pk, "user": {"id": user.pk, "name": user.username, "host": host},
            "text": message.text, "at": message.created_at}


@dataclass(frozen=True)
class ChatLine:
    stream_id: int
    user: object
    text: object


def _clean_text(line: ChatLine) -> str:
    if line.user is None or not line.user.is_authenticated:
        raise ChatRefused(_("Sign in to chat."), code="not_authenticated", status=401)
    text = (line.text if isinstance(line.text, str) else "").strip()
    if not is_clean(text):
        raise ChatRefused(TextRefused.default_message, code=TextRefused.code)
    if not text:
        raise ChatRefused(_("Write something first."), code="empty")
    if len(text) > settings.LIVE_CHAT_MAX_LENGTH:
        raise ChatRefused(_("A message can be at most %(n)d characters.") % {"n": settings.LIVE_CHAT_MAX_LENGTH},
                          code="too_long")
    return text


def chat_send_many(*, lines: list[ChatLine]) -> list[ChatMessage | DomainError]:
    """Apply the chat rules to each line and store the accepted ones: one result per line, in order.

    A whole batch costs a fixed number of round trips (rooms, mutes, the rate counters,
    one INSERT, one COMMIT, one PUBLISH pipeline), so a busy room's chat keeps up
    however slow each round trip gets: the live room's writer hands over every line
    that queued while the previous batch was being written.
    """
    results: list = [None] * len(lines)
    texts: dict[int, str] = {}
    for index, line in enumerate(lines):
        try:
            texts[index] = _clean_text(line)
        except DomainError as error:
            results[index] = error
    if texts:
        stream_ids = {lines[i].stream_id for i in texts}
        rooms = {row["pk"]: row for row in Stream.objects.filter(pk__in=stream_ids)
                 .values("pk", "status", "merchant__user_id", "banned_words")}
        muted = set(ChatMute.objects.filter(stream_id__in=stream_ids, user_id__in={lines[i].user.pk for i in texts})
                    .values_list("stream_id", "user_id"))
        for index in list(texts):
            line = lines[index]
            room = rooms.get(line.stream_id)
            if room is None:
                results[index] = NotFound(_("No such stream."))
            elif room["status"] not in (Stream.Status.SCHEDULED, Stream.Status.LIVE):
                results[index] = ChatRefused(_("The chat of this stream is closed."), code="chat_closed", status=409)
            elif banned_word_in(texts[index], room["banned_words"]):
                results[index] = ChatRefused(_("Please keep the conversation and the sale on the platform."),
                                             code="banned_word")
            elif (line.stream_id, line.user.pk) in muted:
                results[index] = ChatRefused(_("The host has muted you in this chat."), code="muted", status=403)
            else:
                continue
            del texts[index]
        allowed = chat_rate_hits([(lines[i].stream_id, lines[i].user.pk) for i in texts])
        for index, ok in zip(list(texts), allowed, strict=True):
            if not ok:
                results[index] = ChatRefused(_("You are sending messages too fast; wait a few seconds."),
                                             code="rate_limited", status=429)
                del texts[index]
    if texts:
        outer = connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # A chat line is not money: do not make every line wait for the WAL flush. A
                    # database crash may lose the last fraction of a second of chat, never an order.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    if not outer:
                        # A row the database refuses (a sender deleted meanwhile) fails at its INSERT,
                        # in its savepoint, not at COMMIT, where it would take the batch with it.
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            stored = _insert(lines, texts, results)
            published = []
            for index, message in stored:
                line = lines[index]
                results[index] = message
                host = rooms[line.stream_id]["merchant__user_id"] == line.user.pk
                published.append((line.stream_id, "chat.message", chat_payload(message, user=line.user, host=host)))
            if outer:  # inside the caller's transaction: sent when it commits, as every other event
                events.publish_many(published)
        if not outer and stored:
            _deliver_or_take_back(published, [message for _i, message in stored], [i for i, _m in stored], results)
    return results


# What the database (or its driver) says of a row, not of itself: a lost connection, a lock or
# statement timeout (OperationalError) is the store's trouble and fails the batch (503 to all).
ROW_REFUSED = (DataError, IntegrityError, UnicodeEncodeError)


def _insert(lines: list[ChatLine], texts: dict[int, str], results: list) -> list[tuple[int, ChatMessage]]:
    """Store the accepted lines: one INSERT for the batch in a savepoint; if the database refuses a
    row of it, each line in its own savepoint, so that one bad row fails only itself (its sender is
    told ``not_stored``, the row is logged) and never its neighbours."""
    order = list(texts)

    def row(index):
        return ChatMessage(stream_id=lines[index].stream_id, user=lines[index].user, text=texts[index])

    try:
        with transaction.atomic():
            return list(zip(order, ChatMessage.objects.bulk_create([row(i) for i in order]), strict=True))
    except ROW_REFUSED as exc:
        logger.warning("chat batch of %d lines refused by the database (%s), storing line by line",
                       len(order), sqlstate(exc) or exc.__class__.__name__)
    stored = []
    for index in order:
        message = row(index)
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except ROW_REFUSED as exc:
            logger.warning("chat line of user %s in stream %s not stored (%s): %s", lines[index].user.pk,
                           lines[index].stream_id, sqlstate(exc) or exc.__class__.__name__,
                           (str(exc).strip().splitlines() or [""])[0][:200])
            results[index] = ChatRefused(_("This message could not be stored."), code="not_stored")
            continue
        stored.append((index, message))
    return stored


def _deliver_or_take_back(published, stored, order, results) -> None:
    """Publish the committed lines now; if Redis does not take them, delete them again and tell
    their senders, so that no line sits in the history that the room never heard."""
    try:
        events.send_frames_now([(stream_id, events.frame(kind, **payload)) for stream_id, kind, payload in published])
    except room_redis.REDIS_ERRORS:
        ChatMessage.objects.filter(pk__in=[message.pk for message in stored]).delete()
        for index in order:
            results[index] = ServiceUnavailable()


def chat_send(*, stream_id: int, user, text) -> ChatMessage:
    """One line (see ``chat_send_many``); raises the refusal."""
    result = chat_send_many(lines=[ChatLine(stream_id=stream_id, user=user, text=text)])[0]
    if isinstance(result, DomainError):
        raise result
    return result


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
