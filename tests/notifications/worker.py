"""A real Celery worker process for the tests, on the test database and the test Redis.

The worker runs the production settings module (``marketplace.settings``) with
``DATABASE_URL`` pointing at pytest-django's test database, so it sees what
``transaction=True`` tests commit, and ``REDIS_URL`` at the same Redis database
the test process enqueues to. SMS go to a file the test reads back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``Worker(tmp_path, sms_file=…).start()``; ``.stop()`` (warm) or ``.kill()`` (-9, the whole group)."""

    def __init__(self, workdir: Path, *, sms_file: Path, concurrency: int = 2, beat: bool = False,
                 sms_backend: str = "notifications.sms.FileSmsSender", **env: str):
        self.workdir = workdir
        self.concurrency = concurrency
        self.beat = beat
        self.env = {
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "PAYMENT_WEBHOOK_SECRET": settings.PAYMENT_WEBHOOK_SECRET,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "NOTIFICATIONS_SMS_BACKEND": sms_backend,
            "NOTIFICATIONS_SMS_FILE": str(sms_file),
            "NOTIFICATIONS_DEFAULT_QUIET_HOURS": "",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"worker-{self.starts}.log"

    def start(self, timeout: float = 60) -> Worker:
        self.starts += 1
        command = [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "-c", str(self.concurrency),
                   "-n", f"cunbo-test-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle",
                   "--without-heartbeat", "-l", "INFO", "--logfile", str(self.log)]
        if self.beat:
            command += ["-B", "-s", str(self.workdir / "beat-schedule")]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.read_log()}")
            if " ready." in self.read_log():
                return self
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.read_log()}")

    def read_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the worker and every process it started, mid-whatever."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self, grace: float = 30) -> None:
        if self.proc is None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown: the main process stops its pool
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        finally:
            self.kill()


def wait_until(predicate, *, timeout: float = 60, every: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        time.sleep(every)
