"""Start the real product for tests that need whole processes: ASGI servers, Celery workers.

Each stack gets a database of its own (migrated, optionally seeded) on the test
PostgreSQL server and a Redis database of its own, so it cannot disturb the
suite's pytest-django database. Everything started is stopped at exit.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_dsn(dbname: str = "postgres") -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname={dbname}"


def _database_url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{dbname}"


def _redis_url(index: int) -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{index}"


@dataclass
class Stack:
    """The environment of one running product, and the processes started in it."""

    database: str
    redis_db: int
    extra_env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)
    logs: list = field(default_factory=list)

    @property
    def env(self) -> dict:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DEBUG": "0",
            "SECRET_KEY": "stack-secret-" + "s" * 40,
            "PAYMENT_WEBHOOK_SECRET": settings.PAYMENT_WEBHOOK_SECRET,
            "MEDIA_HOOK_SECRET": "stack-media-hook-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": _database_url(self.database),
            "REDIS_URL": _redis_url(self.redis_db),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(Path("/tmp") / f"cunbo-stack-{self.database}-{name}.log", "w+")  # noqa: SIM115
        environment = {**self.env, "PATH": f"{VENV_BIN}:{self.env['PATH']}", **(env or {})}
        process = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        self.logs.append(log)
        return process

    def start_server(self, *, port: int | None = None, workers: int = 1) -> str:
        """Start uvicorn on ``port``; returns its base URL once /api/health/ answers."""
        port = port or free_port()
        process = self._spawn(f"web-{port}", [
            str(VENV_BIN / "uvicorn"), "marketplace.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--ws-per-message-deflate", "false", "--log-level", "warning",
        ])
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), timeout=60, what=f"server on {port}", process=process)
        return base

    def start_http(self, *, port: int | None = None, workers: int = 1, threads: int = 4) -> str:
        """The production HTTP server (deploy/serve-http: gunicorn, WSGI); its base URL once healthy."""
        port = port or free_port()
        process = self._spawn(f"http-{port}", ["sh", str(ROOT / "deploy" / "serve-http")], env={
            "CUNBO_HOST": "127.0.0.1", "CUNBO_PORT": str(port), "WEB_WORKERS": str(workers),
            "WEB_THREADS": str(threads)})
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), timeout=60, what=f"the WSGI server on {port}", process=process)
        return base

    def start_ws(self, *, port: int | None = None, workers: int = 1) -> str:
        """The production socket server (deploy/serve-ws: uvicorn, ASGI); its base URL once healthy."""
        port = port or free_port()
        process = self._spawn(f"ws-{port}", ["sh", str(ROOT / "deploy" / "serve-ws")], env={
            "CUNBO_HOST": "127.0.0.1", "CUNBO_PORT": str(port), "WS_WORKERS": str(workers)})
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), timeout=60, what=f"the ASGI server on {port}", process=process)
        return base

    def start_nginx(self, *, http: str, ws: str, port: int | None = None, max_body: str = "12m") -> str:
        """Debian's nginx with deploy/nginx.conf.template in front of ``http`` and ``ws`` (base URLs)."""
        port = port or free_port()
        where = Path("/tmp") / f"cunbo-stack-{self.database}-nginx-{port}"
        where.mkdir(parents=True, exist_ok=True)
        where.chmod(0o777)  # nginx's workers (nobody) write their temporary files here
        site = render_template((ROOT / "deploy" / "nginx.conf.template").read_text(), {
            "CUNBO_LISTEN": f"127.0.0.1:{port}", "CUNBO_HTTP_UPSTREAM": http.removeprefix("http://"),
            "CUNBO_WS_UPSTREAM": ws.removeprefix("http://"), "CUNBO_MAX_BODY": max_body})
        temp = "\n".join(f"    {kind}_temp_path {where}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
        (where / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {where}/nginx.pid;\nerror_log {where}/error.log warn;\n"
            f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\n{site}\n}}\n")
        process = self._spawn(f"nginx-{port}", ["/usr/sbin/nginx", "-c", str(where / "nginx.conf"), "-p", str(where)])
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), timeout=30, what=f"nginx on {port}", process=process)
        return base

    def start_worker(self, *, name: str = "worker", concurrency: int = 2, queues: str | None = None) -> subprocess.Popen:
        argv = [str(VENV_BIN / "celery"), "-A", "marketplace", "worker", "--loglevel=warning",
                "--concurrency", str(concurrency), "-n", f"{name}-{self.database}@%h", "--without-gossip",
                "--without-mingle", "--without-heartbeat"]
        if queues:
            argv += ["-Q", queues]
        return self._spawn(name, argv)

    def start_beat(self) -> subprocess.Popen:
        """Celery beat: the periodic sweeps (payment windows, offers, the outbox) as in production."""
        schedule = Path("/tmp") / f"cunbo-stack-{self.database}-beat-schedule"
        return self._spawn("beat", [str(VENV_BIN / "celery"), "-A", "marketplace", "beat", "--loglevel=warning",
                                    "--schedule", str(schedule)])

    def log_text(self) -> str:
        text = []
        for log in self.logs:
            log.flush()
            log.seek(0)
            text.append(f"--- {log.name}\n{log.read()[-5000:]}")
        return "\n".join(text)

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
        for log in self.logs:
            log.close()


def render_template(text: str, values: dict[str, str]) -> str:
    """``${NAME}`` filled for the names given, as the nginx image's envsubst does (nginx's own
    ``$variables`` stay)."""
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def stop_process(process: subprocess.Popen, *, sig=signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/health/", timeout=2) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def create_database(name: str) -> None:
    with psycopg.connect(_server_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(_server_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


STACK_REDIS_DATABASES = range(6, 14)


def _claim_redis_database(owner: str) -> int:
    """A Redis database no other running stack uses (several suites may share one Redis)."""
    import redis

    for index in STACK_REDIS_DATABASES:
        client = redis.Redis.from_url(_redis_url(index))
        try:
            if client.set("cunbo:stack:owner", owner, nx=True, ex=3600):
                return index
        finally:
            client.close()
    raise RuntimeError("every Redis database for test stacks is taken")


@contextlib.contextmanager
def running_stack(name: str, *, seed: bool = True, extra_env: dict | None = None):
    """A migrated (and seeded) database named after the test database, and a Stack to start processes in."""
    database = f"{settings.DATABASES['default']['NAME']}_{name}"
    create_database(database)
    redis_db = _claim_redis_database(database)
    stack = Stack(database=database, redis_db=redis_db, extra_env=extra_env or {})
    _flush_redis(stack.env["REDIS_URL"], keep_owner=database)
    try:
        stack.manage("migrate", "--noinput")
        if seed:
            stack.manage("seed_demo")
        yield stack
    finally:
        stack.stop()
        _flush_redis(stack.env["REDIS_URL"])
        drop_database(database)


def _flush_redis(url: str, *, keep_owner: str | None = None) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        if keep_owner:
            client.set("cunbo:stack:owner", keep_owner, ex=3600)
    finally:
        client.close()
