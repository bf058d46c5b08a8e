"""Load generator for the live-room WebSocket fan-out benchmark.

N watcher connections (spread over `processes` spawn-started worker processes)
join a room; one sender connection posts {"type":"chat.send","text":"bench <seq> <time_ns>"}
at a fixed rate; every watcher measures latency of the matching "chat.message"
frames (all other frame types are ignored without JSON parsing).

CLI (prints one line of JSON):
    python bench/fanout_clients.py --url ws://127.0.0.1:8765/ws/streams/1/ \
        [--sender-url 'ws://.../ws/streams/1/?token=JWT'] --clients 1000 --rate 20 \
        --seconds 10 --processes 2 [--connect-rate 500] [--server-pid PID] [--bare]

  --bare  start bench/bare_broadcast.py on the --url host/port, measure its CPU, stop it.

API:
    run_fanout(url_for_watchers, url_for_sender, *, clients, rate, seconds,
               processes=2, connect_rate=500.0, server_pid=None, drain_timeout=5.0,
               use_uvloop=True, open_timeout=10.0, client_impl="protocol") -> dict
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import proc_cpu_seconds, raise_nofile  # noqa: E402

# ---------------------------------------------------------------- histogram
# 10 µs buckets below 100 ms, 1 ms buckets from 100 ms to 60 s, one overflow bucket.
_FINE_US, _FINE_N = 10, 10_000          # 0 .. 100 ms
_COARSE_US = 1_000                       # 100 ms .. 60 s
_COARSE_N = (60_000_000 - _FINE_US * _FINE_N) // _COARSE_US
_NBUCKETS = _FINE_N + _COARSE_N + 1


def _bucket(us: int) -> int:
    if us < _FINE_US * _FINE_N:
        return us // _FINE_US if us > 0 else 0
    i = _FINE_N + (us - _FINE_US * _FINE_N) // _COARSE_US
    return i if i < _NBUCKETS else _NBUCKETS - 1


def _bucket_mid_us(i: int) -> float:
    if i < _FINE_N:
        return i * _FINE_US + _FINE_US / 2
    return _FINE_US * _FINE_N + (i - _FINE_N) * _COARSE_US + _COARSE_US / 2


def _percentile(hist: dict[int, int], total: int, q: float) -> float | None:
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total - 1e-9))  # nearest-rank
    seen = 0
    for i in sorted(hist):
        seen += hist[i]
        if seen >= rank:
            return _bucket_mid_us(i)
    return _bucket_mid_us(max(hist))


def _run_loop(coro, use_uvloop: bool):
    if use_uvloop:
        try:
            import uvloop
            return uvloop.run(coro)
        except ImportError:
            pass
    return asyncio.run(coro)


# Origin header for every client (servers that check it, like the app's AllowedHostsOriginValidator).
# An environment variable so that the spawned worker processes inherit it.
_ORIGIN = os.environ.get("BENCH_WS_ORIGIN") or None


def _connect(url: str, open_timeout: float):
    from websockets.asyncio.client import connect
    return connect(url, compression=None, open_timeout=open_timeout, ping_interval=None, origin=_ORIGIN,
                   proxy=None, max_size=None, close_timeout=2)


# ---------------------------------------------------------------- worker side
def _worker(idx: int, n: int, url: str, conn_rate: float, open_timeout: float,
            cmd_q, res_q, use_uvloop: bool, client_impl: str = "protocol") -> None:
    raise_nofile()
    _run_loop(_worker_main(idx, n, url, conn_rate, open_timeout, cmd_q, res_q, client_impl),
              use_uvloop)
    res_q.close()
    res_q.join_thread()
    os._exit(0)  # skip interpreter teardown of hundreds of sockets


class _Recorder:
    """Per-process latency/seq accounting shared by all watcher connections."""

    def __init__(self):
        self.hist = [0] * _NBUCKETS
        self.delivered = self.sum_us = self.max_us = self.reordered = self.closed = 0

    def frame(self, m, last: int) -> int:
        """Handle one text frame (str or bytes); returns the connection's new last seq."""
        # Cheap pre-filter: only frames carrying a bench text are JSON-parsed.
        if ('"bench ' if m.__class__ is str else b'"bench ') not in m:
            return last
        now = time.time_ns()
        try:
            d = json.loads(m)
            if d.get("type") != "chat.message":
                return last
            parts = d["text"].split(" ")
            if parts[0] != "bench":
                return last
            seq = int(parts[1])
            us = (now - int(parts[2])) // 1000
        except (ValueError, KeyError, IndexError, AttributeError, TypeError):
            return last
        self.delivered += 1
        self.hist[_bucket(us)] += 1
        self.sum_us += us
        if us > self.max_us:
            self.max_us = us
        if seq <= last:
            self.reordered += 1
        return seq


class _Watcher(asyncio.Protocol):
    """Lean watcher: websockets' Sans-I/O ClientProtocol driven straight from an
    asyncio.Protocol (no per-frame Future/Task wake-up, frames handled as bytes).
    The handshake, ping->pong and close replies are done by websockets itself."""

    def __init__(self, uri, rec: _Recorder, opened):
        from websockets.client import ClientProtocol
        self.p = ClientProtocol(uri, origin=_ORIGIN, max_size=None)  # no extensions => no compression
        self.rec = rec
        self.opened = opened
        self.last = -1
        self.frag = None
        self.t = None

    def connection_made(self, transport):
        self.t = transport
        self.p.send_request(self.p.connect())
        self._flush()

    def _flush(self):
        for chunk in self.p.data_to_send():
            if chunk:
                self.t.write(chunk)
            elif self.t.can_write_eof():
                self.t.write_eof()
        if self.p.close_expected():
            self.t.close()

    def data_received(self, data):
        p = self.p
        p.receive_data(data)
        for ev in p.events_received():
            op = getattr(ev, "opcode", None)
            if op is None:  # handshake Response
                if not self.opened.done():
                    if p.handshake_exc is not None:
                        self.opened.set_exception(p.handshake_exc)
                    else:
                        self.opened.set_result(self)
                continue
            op = op.value
            if op == 1:      # TEXT
                if ev.fin:
                    self.last = self.rec.frame(ev.data, self.last)
                else:
                    self.frag = [ev.data]
            elif op == 0 and self.frag is not None:  # CONT
                self.frag.append(ev.data)
                if ev.fin:
                    self.last = self.rec.frame(b"".join(self.frag), self.last)
                    self.frag = None
        self._flush()

    def eof_received(self):
        self.p.receive_eof()
        return False

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        else:
            self.rec.closed += 1

    def close(self):
        if self.t is not None and not self.t.is_closing():
            try:
                self.p.send_close(1000)
                self._flush()
            except Exception:
                pass
            self.t.close()


async def _worker_main(idx, n, url, conn_rate, open_timeout, cmd_q, res_q, client_impl):
    loop = asyncio.get_running_loop()
    rec = _Recorder()
    st = rec
    conns: list = []
    errors: dict[str, int] = {}

    async def watch(ws):  # client_impl == "asyncio"
        last = -1
        try:
            async for m in ws:
                last = rec.frame(m, last)
        except Exception:
            pass
        rec.closed += 1

    if client_impl == "protocol":
        from websockets.uri import parse_uri
        uri = parse_uri(url)
        ssl_ctx = None
        if uri.secure:
            import ssl
            ssl_ctx = ssl.create_default_context()

        async def _open_proto():
            opened = loop.create_future()
            tr, _ = await loop.create_connection(lambda: _Watcher(uri, rec, opened), uri.host,
                                                 uri.port, ssl=ssl_ctx)
            try:
                return await opened
            except BaseException:
                tr.abort()
                raise

    async def open_one():
        try:
            if client_impl == "protocol":
                w = await asyncio.wait_for(_open_proto(), open_timeout)
            else:
                w = await _connect(url, open_timeout)
        except Exception as e:  # failed handshake: count, never retry
            k = type(e).__name__
            errors[k] = errors.get(k, 0) + 1
            return
        conns.append(w)
        if client_impl != "protocol":
            loop.create_task(watch(w))

    t0 = loop.time()
    openers = []
    for i in range(n):
        delay = t0 + i / conn_rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        openers.append(loop.create_task(open_one()))
    if openers:
        await asyncio.gather(*openers)
    connected = len(conns)
    res_q.put(("ready", idx, connected, n - connected, errors))

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.monotonic()
    while True:
        cmd = await loop.run_in_executor(None, cmd_q.get)
        if cmd[0] == "drain":
            _, n_sent, drain_timeout = cmd
            expected = n_sent * connected
            deadline = time.monotonic() + drain_timeout
            while st.delivered < expected and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            break
        if cmd[0] == "stop":
            break
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - w0
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    res_q.put(("result", idx, {
        "connected": connected,
        "delivered": rec.delivered,
        "sum_us": rec.sum_us,
        "max_us": rec.max_us,
        "reordered": rec.reordered,
        "closed": rec.closed,
        "hist": {i: c for i, c in enumerate(rec.hist) if c},
        "cpu_s": cpu,
        "wall_s": wall,
    }))
    if client_impl == "protocol":
        for w in conns:
            w.close()
        await asyncio.sleep(0.2)
    elif conns:
        try:
            await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in conns),
                                                  return_exceptions=True), 5)
        except (asyncio.TimeoutError, Exception):
            pass


# ---------------------------------------------------------------- driver side
def _get(q, timeout: float):
    try:
        return q.get(timeout=timeout)
    except Exception as e:  # queue.Empty
        raise TimeoutError(f"worker did not answer within {timeout:.0f}s") from e


async def _drive(url_for_sender, n_msgs, rate, server_pid, drain_timeout, open_timeout,
                 cmd_qs, res_q, n_workers):
    loop = asyncio.get_running_loop()
    ws = await _connect(url_for_sender, open_timeout)

    async def discard():
        try:
            async for _ in ws:
                pass
        except Exception:
            pass
    reader = loop.create_task(discard())
    await asyncio.sleep(1.0)  # settle (also lets any join broadcasts pass)

    srv_cpu0 = proc_cpu_seconds(server_pid) if server_pid else None
    t0 = time.perf_counter()
    lag_max = 0.0
    sent = 0
    last_send = t0
    for seq in range(n_msgs):
        target = t0 + seq / rate
        d = target - time.perf_counter()
        if d > 0:
            await asyncio.sleep(d)
        else:
            lag_max = max(lag_max, -d)
        await ws.send(f'{{"type":"chat.send","text":"bench {seq} {time.time_ns()}"}}')
        sent += 1
        last_send = time.perf_counter()
    send_duration = (last_send - t0) + 1.0 / rate

    for q in cmd_qs:
        q.put(("drain", sent, drain_timeout))
    td = time.perf_counter()
    results = []
    for _ in range(n_workers):
        results.append(await loop.run_in_executor(None, _get, res_q, drain_timeout + 60))
    drain_s = time.perf_counter() - td
    srv_cpu1 = proc_cpu_seconds(server_pid) if server_pid else None
    reader.cancel()
    try:
        await asyncio.wait_for(ws.close(), 2)
    except Exception:
        pass
    return sent, send_duration, lag_max, drain_s, results, srv_cpu0, srv_cpu1


def run_fanout(url_for_watchers: str, url_for_sender: str, *, clients: int, rate: float,
               seconds: float, processes: int = 2, connect_rate: float = 500.0,
               server_pid: int | None = None, drain_timeout: float = 5.0,
               use_uvloop: bool = True, open_timeout: float = 10.0,
               client_impl: str = "protocol") -> dict:
    """Run one fan-out measurement; see module docstring. Returns a flat dict."""
    nofile = raise_nofile()
    processes = max(1, min(processes, clients)) if clients > 0 else 1
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    per_proc_rate = connect_rate / processes
    ctx = mp.get_context("spawn")
    res_q = ctx.Queue()
    cmd_qs = [ctx.Queue() for _ in range(processes)]
    procs = [ctx.Process(target=_worker, daemon=True,
                         args=(i, shares[i], url_for_watchers, per_proc_rate, open_timeout,
                               cmd_qs[i], res_q, use_uvloop, client_impl))
             for i in range(processes)]
    t_start = time.perf_counter()
    for p in procs:
        p.start()
    try:
        connected = failed = 0
        errors: dict[str, int] = {}
        ready_timeout = clients / connect_rate + open_timeout + 30
        for _ in range(processes):
            kind, _i, ok, bad, errs = _get(res_q, ready_timeout)
            assert kind == "ready", kind
            connected += ok
            failed += bad
            for k, v in errs.items():
                errors[k] = errors.get(k, 0) + v
        connect_s = time.perf_counter() - t_start

        n_msgs = int(round(rate * seconds))
        sent, send_duration, lag_max, drain_s, results, c0, c1 = _run_loop(
            _drive(url_for_sender, n_msgs, rate, server_pid, drain_timeout, open_timeout,
                   cmd_qs, res_q, processes), use_uvloop)
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()

    results = [r[2] for r in results]
    hist: dict[int, int] = {}
    for r in results:
        for i, c in r["hist"].items():
            hist[i] = hist.get(i, 0) + c
    delivered = sum(r["delivered"] for r in results)
    expected = sent * connected

    def ms(v):
        return None if v is None else round(v / 1000, 3)

    out = {
        "clients": clients,
        "connected": connected,
        "failed_handshakes": failed,
        "handshake_errors": errors,
        "processes": processes,
        "nofile_limit": nofile,
        "connect_s": round(connect_s, 3),
        "rate": rate,
        "seconds": seconds,
        "sent": sent,
        "send_duration_s": round(send_duration, 3),
        "sender_max_lag_ms": round(lag_max * 1000, 3),
        "expected": expected,
        "delivered": delivered,
        "drops": expected - delivered,
        "drain_s": round(drain_s, 3),
        "deliveries_per_s": round(delivered / send_duration, 1) if send_duration > 0 else None,
        "p50_ms": ms(_percentile(hist, delivered, 0.50)),
        "p90_ms": ms(_percentile(hist, delivered, 0.90)),
        "p99_ms": ms(_percentile(hist, delivered, 0.99)),
        "max_ms": ms(max((r["max_us"] for r in results), default=None)) if delivered else None,
        "mean_ms": ms(sum(r["sum_us"] for r in results) / delivered) if delivered else None,
        "reordered": sum(r["reordered"] for r in results),
        "closed_during_run": sum(r["closed"] for r in results),
        "client_impl": client_impl,
        "client_cpu_us_per_delivery": (round(sum(r["cpu_s"] for r in results) * 1e6 / delivered, 2)
                                       if delivered else None),
        "client_cpu_pct": [round(100 * r["cpu_s"] / r["wall_s"], 1) if r["wall_s"] else None
                           for r in results],
        "server_pid": server_pid,
        "server_cpu_s": None,
        "server_cpu_us_per_delivery": None,
    }
    if c0 is not None and c1 is not None:
        out["server_cpu_s"] = round(c1 - c0, 3)
        out["server_cpu_us_per_delivery"] = round((c1 - c0) * 1e6 / delivered, 2) if delivered else None
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="watcher URL, e.g. ws://127.0.0.1:8765/ws/streams/1/")
    p.add_argument("--sender-url", help="sender URL (default: --url); add ?token=<jwt> for the real app")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--connect-rate", type=float, default=500.0)
    p.add_argument("--drain-timeout", type=float, default=5.0)
    p.add_argument("--server-pid", type=int)
    p.add_argument("--bare", action="store_true",
                   help="spawn bench/bare_broadcast.py on the --url host:port for this run")
    p.add_argument("--no-uvloop", action="store_true")
    p.add_argument("--client-impl", choices=("protocol", "asyncio"), default="protocol",
                   help="watchers: lean websockets Sans-I/O protocol (default) or websockets.asyncio.client")
    a = p.parse_args(argv)

    proc = None
    server_pid = a.server_pid
    if a.bare:
        from urllib.parse import urlsplit

        from _common import bare_server_cmd, start_server, stop_server
        u = urlsplit(a.url)
        proc, server_pid = start_server(bare_server_cmd(u.port, u.hostname), u.port, u.hostname)
    try:
        res = run_fanout(a.url, a.sender_url or a.url, clients=a.clients, rate=a.rate,
                         seconds=a.seconds, processes=a.processes, connect_rate=a.connect_rate,
                         server_pid=server_pid, drain_timeout=a.drain_timeout,
                         use_uvloop=not a.no_uvloop, client_impl=a.client_impl)
    finally:
        if proc is not None:
            stop_server(proc)
    print(json.dumps(res, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
