"""Profile successful checkouts in one process (no contention): where a checkout's CPU goes.

Seeds like ``bench/checkout.py`` (a live offer, buyers with tokens), then posts ``--n`` checkouts
through Django's full request stack (middleware, DRF, the view) with the test client, first
unprofiled to time them (and the bare insert view, for the ratio of CPU), then under cProfile
(CPU time of this process, or ``--wall``), and prints the top functions by cumulative time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cunbo_bench_checkout REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/checkout_profile.py --n 200
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="checkouts per pass")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--wall", action="store_true", help="profile wall time (default: this process's CPU time)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ["DATABASE_POOL"] = "0"

    from bench.checkout import _seed

    seed = _seed(argparse.Namespace(units=3 * args.n + 10, buyers=3 * args.n + 10))
    from django.test import Client

    client = Client()
    users = iter(seed["users"])

    def one():
        user = next(users)
        response = client.post("/api/orders/", data=user["body"], content_type="application/json",
                               headers={"Authorization": f"Bearer {user['token']}",
                                        "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.content

    def insert():
        response = client.post("/bench/insert/", data=b"one row", content_type="text/plain")
        assert response.status_code == 201

    def timed(label, fn):
        for _ in range(args.n // 2):  # warm up (imports, caches, connection)
            fn()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.n):
            fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{label}: {wall / args.n * 1000:.2f} ms wall, {cpu / args.n * 1000:.2f} ms CPU each (unprofiled)")
        return cpu

    insert_cpu = timed("bare insert view", insert)
    checkout_cpu = timed("checkout", one)
    print(f"CPU per checkout / CPU per insert: {checkout_cpu / insert_cpu:.2f}")
    profile = cProfile.Profile() if args.wall else cProfile.Profile(time.process_time)
    profile.enable()
    for _ in range(args.n):
        one()
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
