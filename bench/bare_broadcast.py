"""Bare baseline for the fan-out benchmark: minimal websockets broadcast server.

Any path is accepted. On {"type":"chat.send","text":t} from any client, ONE
pre-serialized {"type":"chat.message","id":n,"user":"bench","text":t,"at":iso}
frame is broadcast to every connected client via websockets.broadcast.

    python bench/bare_broadcast.py --port 8765 [--host 127.0.0.1]

Prints "ready" (flushed) once listening.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import raise_nofile  # noqa: E402
from websockets.asyncio.server import broadcast, serve  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

CLIENTS: set = set()
_next_id = 0


async def handler(ws):
    global _next_id
    CLIENTS.add(ws)
    try:
        async for raw in ws:
            try:
                msg = json.loads(raw)
            except (ValueError, TypeError):
                continue
            if not isinstance(msg, dict) or msg.get("type") != "chat.send":
                continue
            _next_id += 1
            frame = json.dumps({
                "type": "chat.message",
                "id": _next_id,
                "user": "bench",
                "text": str(msg.get("text", "")),
                "at": datetime.now(timezone.utc).isoformat(),
            }, separators=(",", ":"))
            broadcast(CLIENTS, frame)
    except ConnectionClosed:
        pass
    finally:
        CLIENTS.discard(ws)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(handler, host, port, compression=None, backlog=4096):
        print("ready", flush=True)
        await stop


def cli(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--no-uvloop", action="store_true")
    a = p.parse_args(argv)
    raise_nofile()
    coro = main(a.host, a.port)
    if not a.no_uvloop:
        try:
            import uvloop
            uvloop.run(coro)
            return
        except ImportError:
            pass
    asyncio.run(coro)


if __name__ == "__main__":
    cli()
