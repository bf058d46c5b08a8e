"""What buyers do, noted without slowing what they do (the insights app keeps it).

Every app notes an interaction (a product viewed, a stream joined, a cart add, an order) with
``interaction_note(...)``: an append to this process's buffer, under a lock, with no I/O, after the
caller's transaction commits (never inside it, so a checkout's critical section and the live room's
fan-out are untouched). A sink registered by the insights app (``interaction_sink_register``)
receives the buffered rows in batches: a daemon thread hands them over at most about once a second
(or at once when the buffer is full), and ``interactions_flush()`` does it synchronously (the drain
task calls it before it reads). The sink pushes them to a Redis list that a beat task drains into
the database; without Redis, it writes them itself.

What a process holds in its buffer when it is killed is lost (at most about a second of events):
these are signals for matching and figures, not records of money.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

KINDS = ("view", "stream_join", "watch", "follow", "cart_add", "order", "paid", "review")
FLUSH_SECONDS = 1.0
FLUSH_ROWS = 500
BUFFER_MAX = 20_000  # beyond this (a sink that keeps failing) new events are dropped, not memory

_lock = threading.Lock()
_flush_lock = threading.Lock()  # one hand-over at a time, so a drain after a flush sees every row
_buffer: list[dict] = []
_sink: Callable[[list[dict]], None] | None = None
_flusher_pid: int | None = None
_wake = threading.Event()


def interaction_sink_register(sink: Callable[[list[dict]], None] | None) -> None:
    global _sink
    _sink = sink


def interaction_note(*, kind: str, user_id: int | None, product_id: int | None = None, merchant_id: int | None = None,
                     stream_id: int | None = None, ref: int | None = None, value: int = 0) -> None:
    """Note one interaction (after the current transaction commits, if there is one)."""
    if kind not in KINDS:
        raise ValueError(f"unknown interaction kind {kind!r}")
    row = {"kind": kind, "user": user_id, "product": product_id, "merchant": merchant_id, "stream": stream_id,
           "ref": ref, "value": int(value), "at": time.time()}
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _append(row))
    else:
        _append(row)


def _append(row: dict) -> None:
    if _sink is None:
        return
    with _lock:
        if len(_buffer) >= BUFFER_MAX:
            return
        _buffer.append(row)
        full = len(_buffer) >= FLUSH_ROWS
    _ensure_flusher()
    if full:
        _wake.set()


def interactions_flush() -> int:
    """Hand the buffered rows to the sink now; returns how many."""
    with _flush_lock:
        return _flush()


def _flush() -> int:
    global _buffer
    with _lock:
        rows, _buffer = _buffer, []
    if rows and _sink is not None:
        try:
            _sink(rows)
        except Exception:  # noqa: BLE001 - kept for the next flush (bounded by BUFFER_MAX)
            logger.warning("interaction sink failed; %d rows kept for the next flush", len(rows), exc_info=True)
            with _lock:
                _buffer = rows + _buffer
            return 0
    return len(rows)


def _ensure_flusher() -> None:
    global _flusher_pid
    if _flusher_pid == os.getpid():
        return
    with _lock:
        if _flusher_pid == os.getpid():  # one per process (a forked worker starts its own)
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, name="interactions-flush", daemon=True).start()


def _flush_forever() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        interactions_flush()
