"""Real uvicorn processes serving the app on the test database, for multi-process room tests."""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection

from tests.media_server import free_port

REPO = pathlib.Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server on {port} did not start")


@contextlib.contextmanager
def uvicorn_servers(count: int, workdir: pathlib.Path, *, log_level: str = "warning", **env_overrides):
    """Start ``count`` uvicorn processes (one worker each); yields [(port, log_path), ...].

    Their clients all come from loopback: the per-address socket limit is off unless overridden."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.test_settings",
           "CUNBO_TEST_DATABASE_URL": _database_url(), "CUNBO_TEST_REDIS_URL": settings.REDIS_URL,
           "MEDIA_HOOK_SECRET": "unused", "WS_MAX_SOCKETS_PER_ADDRESS": "0", **env_overrides}
    procs = []
    try:
        for _ in range(count):
            port = free_port()
            log = workdir / f"uvicorn-{port}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "marketplace.asgi:application", "--host", "127.0.0.1",
                     "--port", str(port), "--ws-per-message-deflate", "false", "--log-level", log_level,
                     "--backlog", "4096"],
                    cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append((proc, port, log))
        for proc, port, _log in procs:
            _wait_port(port, proc)
        yield [(port, log) for _proc, port, log in procs]
    finally:
        for proc, _port, _log in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _port, _log in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
