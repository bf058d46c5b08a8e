"""The live room socket: ``ws(s)://HOST/ws/streams/{id}/``.

Thin by design: it authenticates (JWT in ``?token=`` or an ``auth`` first
message), joins this process's room (``realtime.hub``), sends the room's snapshot,
and hands the client's messages to the services. Room events do not pass through
it: the room process writes them straight to the socket (``hub`` mode), or the
Channels group delivers them here (``layer`` mode).

Signing in and staying signed in is ``core.ws_auth``'s: the connect-time ``scope["auth"]``, an
``auth`` message, and before each message of a signed-in socket ``SocketAuth.still_valid`` (token
expiry; the user's ``is_active`` and ``token_version`` re-read every ``WS_AUTH_RECHECK_S``): when it
no longer is, ``error`` {``auth_expired``} and close 4401.

Client messages: ``chat.send`` {text}; ``auth`` {token}; for the stream's owner
``chat.delete`` {id}, ``chat.mute`` {user}, ``chat.unmute`` {user}. Anything
else, malformed JSON, or a refused action answers ``error`` {code, message} and
the socket stays open; a frame over ``LIVE_ROOM_MAX_FRAME_BYTES`` closes it (1009).
"""

from __future__ import annotations

import logging
import time
import uuid

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.frames import FrameRefused, read_frame
from core.i18n import language_for
from core.interactions import interaction_note
from core.ws_auth import CLOSE_AUTH_ENDED, SocketAuth, socket_auth
from core.ws_limits import address_key

from . import events, services
from .realtime.hub import room_process
from .realtime.outbox import Outbox
from .selectors import room_snapshot_frames
from .services.chat import ChatLine

logger = logging.getLogger(__name__)

NO_LAYER = "livestream-room-without-channel-layer"
MAX_CHAT_IN_FLIGHT = 20  # lines of one socket waiting for the chat writer




class LiveRoomConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        # In hub mode the room needs no channel layer at all: no per-socket channel,
        # no layer receive loop, no group membership to go stale.
        self.channel_layer_alias = NO_LAYER if settings.LIVE_ROOM_FANOUT == "hub" else "default"
        return await super().__call__(scope, receive, send)

    async def dispatch(self, message):
        # Channels awaits aclose_old_connections() (a hop to the shared sync thread) before
        # every handler; this consumer reaches the database only through
        # DatabaseSyncToAsync, which closes stale connections in its own thread already.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.stream_id = int(self.scope["url_route"]["kwargs"]["stream_id"])
        self.socket_id = uuid.uuid4().hex
        self.joined = False
        self.chat_in_flight = 0
        self.auth = self.scope.get("auth") or SocketAuth()
        self.user = self.auth.user
        self.outbox = Outbox(self.base_send, limit=settings.LIVE_ROOM_SEND_QUEUE)
        process = room_process()
        info = await process.info(self.stream_id)
        await self.accept()
        if info is None:
            self.outbox.release()
            self._error("not_found", _("No such stream."))
            await self.close(code=4404)
            return
        self.owner_id = info["owner_id"]
        try:
            if self.channel_layer is not None:
                await self.channel_layer.group_add(events.stream_group(self.stream_id), self.channel_name)
            self.joined = True  # from here on, disconnect() leaves (even a half-done join)
            await process.join(self.stream_id, self.socket_id, self.outbox, viewer=self._viewer())
            frames = await process.snapshot(self.stream_id, room_snapshot_frames)
        except Exception:
            logger.exception("could not join live room %s", self.stream_id)
            self.outbox.release()
            self._error("unavailable", _("The room is briefly unavailable; reconnect shortly."))
            await self.close(code=1011)
            return
        self.outbox.release([{"type": "websocket.send", "text": text} for text in frames])
        self.joined_at = time.monotonic()
        if self._signed_in():  # an append to this process's buffer (core.interactions): no I/O here
            interaction_note(kind="stream_join", user_id=self.user.pk, stream_id=self.stream_id)

    async def disconnect(self, code):
        if getattr(self, "joined", False):
            self.joined = False
            await room_process().leave(self.stream_id, self.socket_id)
            if self._signed_in() and getattr(self, "joined_at", None) is not None:
                interaction_note(kind="watch", user_id=self.user.pk, stream_id=self.stream_id,
                                 value=round(time.monotonic() - self.joined_at))
            if self.channel_layer is not None:
                try:
                    await self.channel_layer.group_discard(events.stream_group(self.stream_id), self.channel_name)
                except Exception:  # noqa: BLE001 - the member expires with group_expiry
                    logger.warning("group_discard failed", exc_info=True)

    # layer mode: a room frame from the group
    async def room_frame(self, event):
        self.outbox.push({"type": "websocket.send", "text": event["frame"]})

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = read_frame(text_data, bytes_data, max_bytes=settings.LIVE_ROOM_MAX_FRAME_BYTES)
        except FrameRefused as refused:
            self._error(refused.code, refused.message)
            if refused.close_code:
                await self.close(code=refused.close_code)
            return
        if self.auth.signed_in and not await self.auth.still_valid():
            self._error("auth_expired", _("Your sign-in has ended; sign in again and reconnect."))
            await self.close(code=CLOSE_AUTH_ENDED)
            return
        handler = self.HANDLERS.get(message["type"])
        if handler is None:
            self._error("unknown_type", _("Unknown message type."))
            return
        try:
            await handler(self, message)
        except DomainError as error:
            self._error(error.code, error.message)

    # --- client messages ------------------------------------------------------------

    async def _auth(self, message):
        auth = await socket_auth(message.get("token"))
        if not auth.signed_in:
            self._error("not_authenticated", _("That token is not valid; you can watch but not chat."))
            return
        self.auth, self.user = auth, auth.user
        if self.joined:
            room_process().identify(self.stream_id, self.socket_id, self._viewer())

    def _viewer(self) -> str:
        """Who counts as one viewer (realtime/hub.py): a signed-in user, else a client address."""
        if self.auth.signed_in:
            return f"u{self.user.pk}"
        address = self.scope.get("client_address")
        return f"a{address_key(address)}" if address else f"s{self.socket_id}"

    def _signed_in(self) -> bool:
        return self.auth.signed_in  # still valid: receive() checked it before this message

    async def _chat_send(self, message):
        if not self._signed_in():
            self._error("not_authenticated", _("Sign in to chat."))
            return
        if self.chat_in_flight >= MAX_CHAT_IN_FLIGHT:
            self._error("rate_limited", _("You are sending messages too fast; wait a few seconds."))
            return
        # Handed to this process's chat writer without waiting: the next frame is read at
        # once, and the service's verdict comes back through the future.
        self.chat_in_flight += 1
        line = ChatLine(stream_id=self.stream_id, user=self.user, text=message.get("text"))
        room_process().chat.submit(line).add_done_callback(self._chat_done)

    def _chat_done(self, future) -> None:
        self.chat_in_flight -= 1
        result = future.result()
        if isinstance(result, DomainError):
            self._error(result.code, result.message)

    async def _moderate(self, message, action):
        if not self._signed_in() or self.user.pk != self.owner_id:
            self._error("forbidden", _("Only the host can do that."))
            return
        target = message.get("id") if action is services.chat_message_delete else message.get("user")
        if not isinstance(target, int) or isinstance(target, bool):
            self._error("malformed", _("Say which one with a numeric id."))
            return
        kwargs = {"message_id": target} if action is services.chat_message_delete else {"user_id": target}
        await database_sync_to_async(action)(stream_id=self.stream_id, actor=self.user, **kwargs)

    async def _chat_delete(self, message):
        await self._moderate(message, services.chat_message_delete)

    async def _chat_mute(self, message):
        await self._moderate(message, services.chat_mute)

    async def _chat_unmute(self, message):
        await self._moderate(message, services.chat_unmute)

    HANDLERS = {
        "auth": _auth,
        "chat.send": _chat_send,
        "chat.delete": _chat_delete,
        "chat.mute": _chat_mute,
        "chat.unmute": _chat_unmute,
    }

    def _error(self, code: str, message) -> None:
        with translation.override(language_for(self.scope, self.user)):
            text = events.error_frame(code, force_str(message))
        self.outbox.push({"type": "websocket.send", "text": text})
