"""Benchmark: what the request-id and metrics middlewares add to a request, in-process.

The same view (``GET /api/health/live/``: no database, no cache) through Django's test client,
with the project's middleware and with it less ``core.logs.RequestIdMiddleware`` and
``core.metrics.MetricsMiddleware``, alternating rounds so both see the same machine. Prints the
CPU time per request of each and their ratio (1.00 = free).

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

OURS = ("core.logs.RequestIdMiddleware", "core.metrics.MetricsMiddleware")


def per_request(client: Client, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        client.get("/api/health/live/", SERVER_NAME="127.0.0.1")
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with_ours = Client()
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in OURS]):
        without = Client()
        per_request(without, 200)  # load the handler while the override holds
    per_request(with_ours, 200)
    base, full = [], []
    for _ in range(args.rounds):
        base.append(per_request(without, args.requests))
        full.append(per_request(with_ours, args.requests))
    b, f = statistics.median(base), statistics.median(full)
    print("| middleware | CPU µs / request | ratio |\n| --- | --- | --- |")
    print(f"| project less request id + metrics (baseline) | {b * 1e6:.1f} | 1.00 |")
    print(f"| project (request id + metrics) | {f * 1e6:.1f} | {f / b:.3f} |")
    print(f"added: {(f - b) * 1e6:.1f} µs per request")


if __name__ == "__main__":
    main()
