"""``ws(s)://HOST/ws/notifications/``: a person's own socket.

Sign in with ``?token=<JWT>`` or a first message ``{"type": "auth", "token": …}``
within ``AUTH_TIMEOUT`` seconds. Signed in, the socket joins its user's group,
hears ``{"type": "notifications.unread", "count"}`` once and then
``{"type": "notification", "id", "kind", "title", "body", "params", "created_at"}``
for each notification as the outbox delivers it (a client keeps one per id).

A signed-in socket keeps checking its sign-in (``core.ws_auth.SocketAuth``): when the token
expires, or the user is deactivated or their tokens revoked (seen within ``WS_AUTH_RECHECK_S``),
it hears ``{"type": "error", "code": "auth_expired"}`` and is closed with 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.encoding import force_str
from django.utils.translation import gettext as _

from core.frames import FrameRefused, read_frame
from core.ws_auth import CLOSE_AUTH_ENDED, SocketAuth, socket_auth

from .events import presence_join, presence_leave, user_group
from .selectors import unread_count

AUTH_TIMEOUT = 10
CLOSE_UNAUTHENTICATED = CLOSE_AUTH_ENDED
# A client only ever sends one small auth message: anything much bigger, or a stream of messages,
# is abuse, answered with an error and the socket closed (1009 too big, 1008 policy violation).
MAX_FRAME_BYTES = 4096
MAX_MESSAGES = 20  # per RATE_WINDOW_S seconds, per socket
RATE_WINDOW_S = 10.0


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    _auth_timer: asyncio.Task | None = None
    _auth_watch: asyncio.Task | None = None

    async def connect(self):
        await self.accept()
        auth = self.scope.get("auth") or SocketAuth()
        if auth.signed_in:
            await self._join(auth)
        else:
            self._auth_timer = asyncio.create_task(self._close_if_still_anonymous())

    async def _close_if_still_anonymous(self):
        await asyncio.sleep(AUTH_TIMEOUT)
        if self.group is None:
            await self._refuse()

    async def _refuse(self):
        await self.send_json({"type": "error", "code": "not_authenticated", "message": _("Sign in first.")})
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _watch_auth(self, auth: SocketAuth):
        """Close the socket once its sign-in ends (expiry, deactivation, revoked tokens)."""
        while True:
            await asyncio.sleep(auth.seconds_to_next_check())
            if not await auth.still_valid():
                break
        await self.send_json({"type": "error", "code": "auth_expired",
                              "message": _("Your sign-in has ended; sign in again and reconnect.")})
        await self.close(code=CLOSE_AUTH_ENDED)

    async def _join(self, auth: SocketAuth):
        user = auth.user
        self.scope["user"] = user
        self._auth_watch = asyncio.create_task(self._watch_auth(auth))
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await sync_to_async(presence_join)(user.pk)
        count = await database_sync_to_async(unread_count)(user=user)
        await self.send_json({"type": "notifications.unread", "count": count})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content, refused = read_frame(text_data, bytes_data, max_bytes=MAX_FRAME_BYTES), None
        except FrameRefused as error:
            content, refused = None, error
        if refused is not None and refused.close_code:
            await self.send_json({"type": "error", "code": refused.code, "message": force_str(refused.message)})
            await self.close(code=refused.close_code)
            return
        if not self._within_rate():
            await self.send_json({"type": "error", "code": "rate_limited",
                                  "message": _("Too many messages: this socket only delivers notifications.")})
            await self.close(code=1008)
            return
        if refused is not None:
            await self.send_json({"type": "error", "code": refused.code, "message": force_str(refused.message)})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if self.group is None and isinstance(content, dict) and content.get("type") == "auth":
            auth = await socket_auth(content.get("token"))
            if auth.signed_in:
                if self._auth_timer:
                    self._auth_timer.cancel()
                await self._join(auth)
            else:
                await self._refuse()
            return
        if self.group is None:
            await self._refuse()
            return
        await self.send_json({"type": "error", "code": "unsupported",
                              "message": _("This socket only delivers notifications.")})

    def _within_rate(self) -> bool:
        now = time.monotonic()
        if now - getattr(self, "_window_start", 0.0) > RATE_WINDOW_S:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        return self._window_count <= MAX_MESSAGES

    async def notification_push(self, event):
        await self.send_json(event["event"])

    async def disconnect(self, code):
        for task in (self._auth_timer, self._auth_watch):
            if task and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.group:
            await sync_to_async(presence_leave)(self.scope["user"].pk)
            await self.channel_layer.group_discard(self.group, self.channel_name)
