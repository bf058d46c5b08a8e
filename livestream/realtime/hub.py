"""The live room's per-process side: local sockets, one subscription per stream, presence.

One ``RoomProcess`` per event loop (so per server process). It knows the sockets
of this process by stream. In ``hub`` fan-out mode it holds ONE Redis pub/sub
connection, subscribed to the channel of each stream that has local sockets; a
published frame (already serialized by ``livestream.events``) is decoded once and
pushed to each local socket's ``Outbox`` — one write per socket, no per-socket
task, queue, thread hop or JSON work. Several processes each subscribe, so a
frame published once reaches every socket of the stream whichever process holds
it. Channels is kept for what it does well: the handshake, auth, the client's own
messages.

It also keeps presence (see ``presence.py``). A viewer is a client, not a socket: each socket
joins under its viewer key (``u<user id>`` signed in, ``a<client address>`` anonymous,
``livestream.consumers``), the room counts its sockets per key, and the presence member is the
key itself — added when a key's first local socket joins, removed when its last one leaves — so
twenty tabs of one person, or of one address, are one viewer, and the count and the stored peak
never exceed the distinct clients. (A key open on two processes is one member; when one process
removes it, the other's next heartbeat puts it back.) Joins and leaves are batched into
one pipeline per loop turn, each process refreshes its members every heartbeat,
and once a second it offers to broadcast ``stream.viewers`` for its streams (the
Redis script lets one process per stream win and only when the count changed).

When the last local socket leaves, the process unsubscribes and closes its Redis
connections and tasks; the next join starts them again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref

from channels.db import database_sync_to_async
from django.conf import settings

from . import redis as room_redis
from .presence import RedisPresence, local_presence

logger = logging.getLogger(__name__)

_SUBSCRIBE_TIMEOUT_S = 5.0
_INFO_TTL_S = 5.0
# Frames whose event cannot change a room's snapshot (status, pin, offers).
_SNAPSHOT_NEUTRAL = ('{"type":"chat.', '{"type":"stream.viewers"', '{"type":"sale.made"')


def _warn(what: str, exc: BaseException) -> None:
    """Redis away is an expected fault (one line, no traceback); anything else is logged in full."""
    if isinstance(exc, room_redis.REDIS_ERRORS):
        logger.warning("%s: %s: %s", what, exc.__class__.__name__, exc)
    else:
        logger.warning(what, exc_info=exc)


class Room:
    __slots__ = ("stream_id", "channel", "sockets", "viewers", "viewer_sockets", "ready", "snapshot", "generation")

    def __init__(self, stream_id: int, loop):
        self.stream_id = stream_id
        self.channel = room_redis.room_channel(stream_id).encode()
        self.sockets: dict[str, object] = {}
        self.viewers: dict[str, str] = {}  # socket id -> viewer key
        self.viewer_sockets: dict[str, int] = {}  # viewer key -> local sockets
        self.ready: asyncio.Future = loop.create_future()
        self.snapshot: list[str] | None = None
        self.generation = 0


class RoomProcess:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.id = uuid.uuid4().hex[:12]
        self.hub = settings.LIVE_ROOM_FANOUT == "hub"
        self.rooms: dict[int, Room] = {}
        self.by_channel: dict[bytes, Room] = {}
        self.lock = asyncio.Lock()
        self.client = None
        self.pubsub = None
        self.presence = None
        self.tasks: list[asyncio.Task] = []
        self._added: dict[int, list[str]] = {}
        self._removed: dict[int, list[str]] = {}
        self._flush_scheduled = False
        self._flushes: set[asyncio.Task] = set()
        self._info: dict[int, tuple[float, dict | None]] = {}
        self.chat = ChatWriter(loop)
        self.delivered_frames = 0

    # --- membership ------------------------------------------------------------------

    async def join(self, stream_id: int, socket_id: str, outbox, viewer: str | None = None) -> None:
        async with self.lock:
            if not self.rooms:
                try:
                    await self._start()
                except BaseException:
                    await self._stop()
                    raise
            room = self.rooms.get(stream_id)
            if room is None:
                room = self.rooms[stream_id] = Room(stream_id, self.loop)
                self.by_channel[room.channel] = room
                if self.hub:
                    await self.pubsub.subscribe(room.channel)
                else:
                    room.ready.set_result(True)
            room.sockets[socket_id] = outbox
            first = self._viewer_add(room, socket_id, viewer or f"s{self.id}:{socket_id}")
        await asyncio.wait_for(asyncio.shield(room.ready), _SUBSCRIBE_TIMEOUT_S)
        if first:
            self._presence_change(stream_id, added=first)

    @staticmethod
    def _viewer_add(room: Room, socket_id: str, viewer: str) -> str | None:
        """Count the socket under ``viewer``; the key if it is the viewer's first local socket."""
        room.viewers[socket_id] = viewer
        room.viewer_sockets[viewer] = room.viewer_sockets.get(viewer, 0) + 1
        return viewer if room.viewer_sockets[viewer] == 1 else None

    @staticmethod
    def _viewer_remove(room: Room, socket_id: str) -> str | None:
        """Stop counting the socket; its key if that was the viewer's last local socket."""
        viewer = room.viewers.pop(socket_id, None)
        if viewer is None:
            return None
        left = room.viewer_sockets[viewer] - 1
        if left:
            room.viewer_sockets[viewer] = left
            return None
        del room.viewer_sockets[viewer]
        return viewer

    def identify(self, stream_id: int, socket_id: str, viewer: str) -> None:
        """The socket signed in: count it under its user from now on."""
        room = self.rooms.get(stream_id)
        if room is None or socket_id not in room.sockets or room.viewers.get(socket_id) == viewer:
            return
        gone = self._viewer_remove(room, socket_id)
        first = self._viewer_add(room, socket_id, viewer)
        if gone:
            self._presence_change(stream_id, removed=gone)
        if first:
            self._presence_change(stream_id, added=first)

    async def leave(self, stream_id: int, socket_id: str) -> None:
        async with self.lock:
            room = self.rooms.get(stream_id)
            if room is None or room.sockets.pop(socket_id, None) is None:
                return
            gone = self._viewer_remove(room, socket_id)
            if gone:
                self._presence_change(stream_id, removed=gone)
            if room.sockets:
                return
            del self.rooms[stream_id]
            del self.by_channel[room.channel]
            if self.hub and self.pubsub is not None:
                await self.pubsub.unsubscribe(room.channel)
            if not self.rooms:
                await self._stop()

    def local_count(self, stream_id: int) -> int:
        room = self.rooms.get(stream_id)
        return len(room.sockets) if room else 0

    # --- what a joining socket needs -----------------------------------------------

    async def info(self, stream_id: int) -> dict | None:
        """The stream's owner and visibility (None: no such stream), cached a few seconds per process
        so that a burst of joins does not queue one query each on the shared sync thread."""
        from livestream.selectors import room_info

        now = self.loop.time()
        cached = self._info.get(stream_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        info = await database_sync_to_async(room_info)(stream_id)
        if len(self._info) > 10000:
            self._info.clear()
        self._info[stream_id] = (now + _INFO_TTL_S, info)
        return info

    # --- snapshot cache --------------------------------------------------------------

    async def snapshot(self, stream_id: int, load) -> list[str]:
        """The room's current state as frames; cached while no state-changing event passes (hub only)."""
        room = self.rooms.get(stream_id)
        if room is not None and room.snapshot is not None:
            return room.snapshot
        generation = room.generation if room else -1
        frames = await database_sync_to_async(load)(stream_id)
        if self.hub and room is not None and room.generation == generation and stream_id in self.rooms:
            room.snapshot = frames
        return frames

    # --- fan-out ---------------------------------------------------------------------

    def deliver(self, room: Room, text: str) -> None:
        if not text.startswith(_SNAPSHOT_NEUTRAL):
            room.generation += 1
            room.snapshot = None
        message = {"type": "websocket.send", "text": text}
        for outbox in room.sockets.values():
            outbox.push(message)
        self.delivered_frames += 1

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            try:
                message = await self.pubsub.get_message(timeout=None)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis went away: redis-py reconnects and resubscribes
                _warn("live room subscription lost; reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if message is None:
                continue
            kind = message["type"]
            if kind == "message":
                room = self.by_channel.get(message["channel"])
                if room is not None:
                    self.deliver(room, message["data"].decode())
            elif kind == "subscribe":
                room = self.by_channel.get(message["channel"])
                if room is not None:
                    if not room.ready.done():
                        room.ready.set_result(True)
                    else:  # a resubscription after a reconnect: frames may have been missed
                        self.loop.create_task(self._resync(room))

    async def _resync(self, room: Room) -> None:
        """After a lost subscription, send every local socket a fresh snapshot."""
        from livestream.selectors import room_snapshot_frames

        room.generation += 1
        room.snapshot = None
        try:
            frames = await self.snapshot(room.stream_id, room_snapshot_frames)
        except Exception:  # noqa: BLE001
            logger.exception("live room resync failed for stream %s", room.stream_id)
            return
        for text in frames:
            message = {"type": "websocket.send", "text": text}
            for outbox in room.sockets.values():
                outbox.push(message)

    # --- presence and viewers -------------------------------------------------------

    def _presence_change(self, stream_id: int, *, added: str | None = None, removed: str | None = None) -> None:
        if added:
            gone = self._removed.get(stream_id)
            if gone and added in gone:  # left and came back within one loop turn: it never went
                gone.remove(added)
            self._added.setdefault(stream_id, []).append(added)
        if removed:
            pending = self._added.get(stream_id)
            if pending and removed in pending:
                pending.remove(removed)
            else:
                self._removed.setdefault(stream_id, []).append(removed)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush_presence)

    def _take_presence_changes(self):
        self._flush_scheduled = False
        added, removed = self._added, self._removed
        self._added, self._removed = {}, {}
        return added, removed

    async def _apply_presence(self, presence, added, removed) -> None:
        for stream_id in set(added) | set(removed):
            try:
                await presence.change(stream_id, added.get(stream_id, []), removed.get(stream_id, []))
            except Exception as exc:  # noqa: BLE001 - the next heartbeat repairs the members
                _warn("viewer presence update failed", exc)

    def _flush_presence(self) -> None:
        added, removed = self._take_presence_changes()
        if not (added or removed):
            return
        task = self.loop.create_task(self._apply_presence(self.presence or local_presence(), added, removed))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    def _track(self, task: asyncio.Task) -> None:
        self.tasks.append(task)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_VIEWER_HEARTBEAT_S)
            members = {sid: list(room.viewer_sockets) for sid, room in self.rooms.items()}
            try:
                await self.presence.refresh(members)
            except Exception as exc:  # noqa: BLE001
                _warn("viewer heartbeat failed", exc)

    async def _viewers(self) -> None:
        from livestream.events import send_frame_async, viewers_frame
        from livestream.services.streams import stream_peak_record

        presence = self.presence or local_presence()
        while True:
            await asyncio.sleep(settings.LIVE_VIEWERS_INTERVAL_S)
            for stream_id in list(self.rooms):
                try:
                    count, new_peak = await presence.tick(stream_id)
                    if count is None:
                        continue
                    await send_frame_async(stream_id, viewers_frame(count), client=self.client)
                    if new_peak:
                        await database_sync_to_async(stream_peak_record)(stream_id=stream_id, viewers=count)
                except Exception as exc:  # noqa: BLE001 - try again next second
                    _warn(f"viewer count for stream {stream_id} not sent", exc)

    # --- lifecycle -------------------------------------------------------------------

    async def _start(self) -> None:
        if settings.REDIS_URL:
            self.client = room_redis.async_client()
            self.presence = RedisPresence(self.client)
        if self.hub:
            self.pubsub = self.client.pubsub()
            await self.pubsub.connect()
            self._track(self.loop.create_task(self._read()))
        if self.presence is not None:
            self._track(self.loop.create_task(self._heartbeat()))
        self._track(self.loop.create_task(self._viewers()))

    async def _stop(self) -> None:
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # The last leaves' presence removals must still reach Redis before it closes.
        added, removed = self._take_presence_changes()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        await self._apply_presence(self.presence or local_presence(), added, removed)
        if self.pubsub is not None:
            try:
                await self.pubsub.aclose()
            finally:
                self.pubsub = None
        if self.client is not None:
            try:
                await self.client.aclose()
            finally:
                self.client = None
        self.presence = None


class ChatWriter:
    """Stores this process's chat lines in batches, in arrival order.

    Each socket hands its lines over without waiting for the database (a socket may
    have several in flight; their order is kept by this FIFO); one batch is written at
    a time, with everything that queued while the previous one was being written.
    A refusal comes back to the sender through its future.
    """

    MAX_BATCH = 200

    def __init__(self, loop):
        self.loop = loop
        self.queue: list = []
        self.task: asyncio.Task | None = None

    def submit(self, line) -> asyncio.Future:
        future = self.loop.create_future()
        self.queue.append((line, future))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        return future

    async def _run(self) -> None:
        from django.db import DatabaseError

        from core.errors import DomainError, ServiceUnavailable
        from livestream.services.chat import chat_send_many

        while self.queue:
            batch, self.queue = self.queue[:self.MAX_BATCH], self.queue[self.MAX_BATCH:]
            try:
                results = await database_sync_to_async(chat_send_many)(lines=[line for line, _f in batch])
            except DomainError as error:  # Redis is away (the breaker said so): tell the senders
                results = [error] * len(batch)
            except (DatabaseError, *room_redis.REDIS_ERRORS) as exc:  # a store is down or cut us off
                logger.warning("chat batch of %d lines not stored: %s: %s", len(batch), exc.__class__.__name__,
                               str(exc).splitlines()[0] if str(exc) else "")
                results = [ServiceUnavailable()] * len(batch)
            except Exception:  # noqa: BLE001 - a bug: log it, and still answer every sender
                logger.exception("chat batch not stored")
                results = [ServiceUnavailable()] * len(batch)
            for (_line, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


_processes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RoomProcess]" = weakref.WeakKeyDictionary()


def room_process() -> RoomProcess:
    """This event loop's (this server process's) room process."""
    loop = asyncio.get_running_loop()
    process = _processes.get(loop)
    if process is None:
        process = _processes[loop] = RoomProcess(loop)
    return process
