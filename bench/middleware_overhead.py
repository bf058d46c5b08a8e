"""Benchmark: what the project's own middlewares add to a request, in-process.

The same view (``GET /api/health/live/``: no database, no cache) through Django's test client,
with the project's middleware and with it less a group of ours, alternating rounds so all see the
same machine: the operations group (``core.logs.RequestIdMiddleware``,
``core.metrics.MetricsMiddleware``) and the hostile-input group (``core.proxy.TrustedProxyMiddleware``,
``core.input_guard.InputGuardMiddleware``). Prints the CPU time per request of each and the ratios
against the project less both groups (1.00 = free).

    DEBUG=1 .venv/bin/python bench/middleware_overhead.py --requests 4000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

OPS = ("core.logs.RequestIdMiddleware", "core.metrics.MetricsMiddleware")
GUARDS = ("core.proxy.TrustedProxyMiddleware", "core.input_guard.InputGuardMiddleware")


def per_request(client: Client, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        client.get("/api/health/live/", SERVER_NAME="127.0.0.1")
    return (time.process_time() - started) / count


def _client_without(names: tuple[str, ...]) -> Client:
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in names]):
        client = Client()
        per_request(client, 200)  # load the handler while the override holds
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clients = {
        "project less both groups (baseline)": _client_without(OPS + GUARDS),
        "+ hostile-input guards (trusted proxy, input guard)": _client_without(OPS),
        "+ operations (request id, metrics)": _client_without(GUARDS),
        "project (both groups)": Client(),
    }
    per_request(clients["project (both groups)"], 200)
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(args.rounds):
        for name, client in clients.items():
            times[name].append(per_request(client, args.requests))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["project less both groups (baseline)"]
    print("| middleware | CPU µs / request | ratio | added µs |\n| --- | --- | --- | --- |")
    for name, value in medians.items():
        print(f"| {name} | {value * 1e6:.1f} | {value / base:.3f} | {(value - base) * 1e6:+.1f} |")


if __name__ == "__main__":
    main()
