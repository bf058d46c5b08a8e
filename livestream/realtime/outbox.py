"""One socket's way out: a write that costs what the server's own write costs.

The fan-out calls ``push`` for every local socket of a room. uvicorn's (and
daphne's) ASGI ``send`` for ``websocket.send`` finishes without ever suspending
unless that one socket's transport is paused (its client is not reading), so
``push`` runs the ``send`` coroutine one step by hand: done in that step (the usual
case) it cost a coroutine object and a frame write — no task, no queue, no thread
hop. Only a socket whose send would wait gets a task of its own, which finishes
that send and drains the frames queued behind it, in order, while the room goes on
writing to everyone else. A socket that falls ``LIVE_ROOM_SEND_QUEUE`` frames behind
is closed (4008): the client reconnects and reloads rather than slowing the room.

An outbox starts *held* so the consumer can put the room's snapshot in front of
the events that arrived while it was loading (``release``).
"""

from __future__ import annotations

import asyncio
from collections import deque

SLOW_CLIENT_CLOSE = {"type": "websocket.close", "code": 4008, "reason": "too slow"}

_background: set[asyncio.Task] = set()


async def _complete(coro, yielded) -> None:
    """Finish driving ``coro`` that yielded ``yielded`` from a manual ``send(None)``."""
    try:
        while True:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                yielded._asyncio_future_blocking = False
                await asyncio.wait((yielded,))
            try:
                yielded = coro.send(None)
            except StopIteration:
                return
    finally:
        coro.close()


class Outbox:
    __slots__ = ("_send", "_pending", "_busy", "_limit", "closed")

    def __init__(self, send, *, limit: int):
        self._send = send
        self._pending: deque = deque()
        self._busy = True  # held until release()
        self._limit = limit
        self.closed = False

    def push(self, message: dict) -> None:
        if self.closed:
            return
        if self._busy:
            if len(self._pending) >= self._limit:
                self._pending.clear()
                self._pending.append(SLOW_CLIENT_CLOSE)
                self.closed = True
            else:
                self._pending.append(message)
            return
        self._write(message)

    def release(self, first: list[dict] = ()) -> None:
        """Send ``first`` (the snapshot), then what queued meanwhile, and go direct from then on."""
        self._pending.extendleft(reversed(first))
        self._busy = False
        while self._pending and not self._busy:
            self._write(self._pending.popleft())

    def _write(self, message: dict) -> None:
        coro = self._send(message)
        try:
            yielded = coro.send(None)
        except StopIteration:
            return
        except Exception:  # noqa: BLE001 - the socket is gone (ClientDisconnected, closed state)
            self.closed = True
            self._pending.clear()
            return
        self._busy = True
        task = asyncio.ensure_future(self._finish(coro, yielded))
        _background.add(task)
        task.add_done_callback(_background.discard)

    async def _finish(self, coro, yielded) -> None:
        try:
            await _complete(coro, yielded)
            while self._pending:
                await self._send(self._pending.popleft())
        except Exception:  # noqa: BLE001 - the socket is gone
            self.closed = True
            self._pending.clear()
        finally:
            self._busy = False
