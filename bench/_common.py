"""Shared helpers for the WebSocket fan-out benchmark.

- raise_nofile(): lift RLIMIT_NOFILE towards 20000 (as far as the hard limit allows).
- start_server(cmd, port): launch a server subprocess, wait until its TCP port accepts.
- stop_server(proc): SIGTERM, then SIGKILL after a grace period.
- proc_cpu_seconds(pid): utime+stime (all threads) of a pid from /proc/<pid>/stat.
"""
from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile(target: int = 20000) -> int:
    """Raise the soft open-files limit to min(target, hard). Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may contain spaces/parens: split after the last ')'.
    # Result index 0 is field 3 (state); ppid=field 4 -> [1]; utime=14 -> [11]; stime=15 -> [12].
    return data[data.rfind(")") + 2:].split()


def proc_cpu_seconds(pid: int, include_descendants: bool = True) -> float | None:
    """CPU time (user+system, all threads) consumed so far by pid, plus (by default) its
    live descendant processes (e.g. uvicorn --workers N children). None if pid is gone."""
    f = _stat_fields(pid)
    if f is None:
        return None
    total = int(f[11]) + int(f[12])
    if include_descendants:
        children: dict[int, list[int]] = {}
        stats: dict[int, list[str]] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                sf = _stat_fields(int(name))
                if sf is not None:
                    stats[int(name)] = sf
                    children.setdefault(int(sf[1]), []).append(int(name))
        todo = list(children.get(pid, ()))
        while todo:
            c = todo.pop()
            total += int(stats[c][11]) + int(stats[c][12])
            todo.extend(children.get(c, ()))
    return total / CLK_TCK


def wait_port(host: str, port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{host}:{port} not accepting after {timeout}s") from None
            time.sleep(0.05)


def start_server(cmd: list[str], port: int, host: str = "127.0.0.1", timeout: float = 20.0,
                 env: dict | None = None, cwd: str | None = None) -> tuple[subprocess.Popen, int]:
    """Start `cmd` (list argv) and wait until host:port accepts TCP. Returns (Popen, pid).

    The pid is the launched process itself (use `exec` style commands, not shells,
    so that it is the process doing the work and proc_cpu_seconds(pid) is meaningful).
    """
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=sys.stderr,
                            start_new_session=True)
    try:
        wait_port(host, port, timeout, proc)
    except Exception:
        stop_server(proc)
        raise
    return proc, proc.pid


def stop_server(proc: subprocess.Popen, grace: float = 5.0) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def bare_server_cmd(port: int, host: str = "127.0.0.1") -> list[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    return [sys.executable, os.path.join(here, "bare_broadcast.py"), "--host", host, "--port", str(port)]


def ensure_database(url: str) -> None:
    """Create the bench's own database if it does not exist (its tables come from migrate)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
