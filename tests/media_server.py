"""Real nginx-rtmp media server harness for integration tests.

Plain Python (stdlib only, no Django / pytest imports). It renders the
production template ``deploy/nginx-rtmp.conf.template`` (the same file the
Docker image renders with ``envsubst``), runs Debian's nginx +
libnginx-mod-rtmp in the foreground and pushes test streams with ffmpeg.

Typical pytest use::

    from tests.media_server import (media_tools_available, run_nginx_rtmp,
                                    ffmpeg_push)

    reason = media_tools_available()

    @pytest.mark.slow
    @pytest.mark.skipif(reason is not None, reason=reason or "")
    def test_publish(live_server, tmp_path):
        with run_nginx_rtmp(hook_base_url=live_server.url,
                            hook_secret=settings.STREAM_HOOK_SECRET,
                            workdir=tmp_path) as media:
            done = ffmpeg_push(media.rtmp_url(key), seconds=3)
            assert done.returncode == 0, done.stderr

Needs: ``apt-get install -y libnginx-mod-rtmp ffmpeg`` (pulls in nginx).
Note: nginx-rtmp resolves the hook host once at start and only speaks plain
http, so ``hook_base_url`` must be ``http://127.0.0.1:<port>`` style.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from typing import Iterator

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "deploy" / "nginx-rtmp.conf.template"
RTMP_MODULE_PATH = pathlib.Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
RTMP_APP = "live"

_PLACEHOLDER_RE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


# --------------------------------------------------------------------------- tools


def _find_exe(name: str) -> str | None:
    """shutil.which, also looking in sbin dirs (nginx lives in /usr/sbin)."""
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        cand = pathlib.Path(d) / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


@functools.lru_cache(maxsize=1)
def media_tools_available() -> str | None:
    """None if nginx (+ rtmp module) and ffmpeg are usable, else a reason string."""
    hint = "install with: apt-get install -y libnginx-mod-rtmp ffmpeg"
    if not TEMPLATE_PATH.is_file():
        return f"media server template missing: {TEMPLATE_PATH}"
    nginx = _find_exe("nginx")
    if nginx is None:
        return f"nginx not found ({hint})"
    if not RTMP_MODULE_PATH.is_file():
        return f"nginx rtmp module not found at {RTMP_MODULE_PATH} ({hint})"
    ffmpeg = _find_exe("ffmpeg")
    if ffmpeg is None:
        return f"ffmpeg not found ({hint})"
    try:
        enc = subprocess.run(
            [ffmpeg, "-hide_banner", "-encoders"],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        ).stdout
        filt = subprocess.run(
            [ffmpeg, "-hide_banner", "-filters"],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"ffmpeg is not runnable: {exc}"
    for needed, where in (("libx264", enc), (" aac ", enc), ("testsrc", filt), ("sine", filt)):
        if needed not in where:
            return f"ffmpeg lacks {needed.strip()!r} ({hint})"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- template


def template_placeholders(template: str | None = None) -> set[str]:
    """Names of the ${VAR} placeholders used by the template."""
    if template is None:
        template = TEMPLATE_PATH.read_text()
    return set(_PLACEHOLDER_RE.findall(template))


def render_template(values: dict[str, str], template: str | None = None) -> str:
    """Replace ${VAR} placeholders; every placeholder must have a value."""
    if template is None:
        template = TEMPLATE_PATH.read_text()
    missing = template_placeholders(template) - set(values)
    if missing:
        raise KeyError(f"no value for template placeholders: {sorted(missing)}")
    return _PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]), template)


# --------------------------------------------------------------------------- nginx


@dataclasses.dataclass
class NginxRtmp:
    rtmp_port: int
    http_port: int
    workdir: pathlib.Path
    hls_dir: pathlib.Path
    conf_path: pathlib.Path
    error_log_path: pathlib.Path
    access_log_path: pathlib.Path
    process: subprocess.Popen
    host: str = "127.0.0.1"

    def rtmp_url(self, key: str) -> str:
        return f"rtmp://{self.host}:{self.rtmp_port}/{RTMP_APP}/{key}"

    def hls_url(self, key: str) -> str:
        return f"http://{self.host}:{self.http_port}/hls/{key}.m3u8"

    def hls_playlist(self, key: str) -> pathlib.Path:
        return self.hls_dir / f"{key}.m3u8"

    def error_log(self) -> str:
        return _read(self.error_log_path) + _read(self.workdir / "nginx.stderr.log")

    def access_log(self) -> str:
        return _read(self.access_log_path)


def _read(path: pathlib.Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM (nginx fast shutdown), then SIGKILL the whole process group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # Workers share the master's process group (start_new_session=True);
    # make sure none is left behind whatever happened to the master.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _start(
    *, hook_base_url: str, hook_secret: str, workdir: pathlib.Path,
    rtmp_port: int, http_port: int, startup_timeout: float,
) -> NginxRtmp:
    nginx = _find_exe("nginx")
    if nginx is None:
        raise RuntimeError("nginx not found; apt-get install -y libnginx-mod-rtmp")
    hls_dir = workdir / "hls"
    temp_dir = workdir / "temp"
    hls_dir.mkdir(parents=True, exist_ok=True)
    temp_dir.mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)  # nginx's -p relative default
    error_log = workdir / "error.log"
    access_log = workdir / "access.log"
    conf = workdir / "nginx.conf"
    values = {
        "CUNBO_API": hook_base_url.rstrip("/"),
        "HOOK_SECRET": urllib.parse.quote(hook_secret, safe=""),
        "RTMP_LISTEN": f"127.0.0.1:{rtmp_port}",
        "RTMP_RELAY": f"127.0.0.1:{rtmp_port}",
        "HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "HLS_PATH": str(hls_dir),
        # As root: run workers as root so they can write into workdir.
        # Not root: nginx ignores `user` (with a warning) and keeps our uid.
        "NGINX_USER": pwd.getpwuid(os.geteuid()).pw_name,
        "NGINX_PID": str(workdir / "nginx.pid"),
        "NGINX_ERROR_LOG": str(error_log),
        "NGINX_LOG_LEVEL": "info",
        "NGINX_ACCESS_LOG": str(access_log),
        "NGINX_TEMP_DIR": str(temp_dir),
    }
    conf.write_text(render_template(values))
    stderr_f = open(workdir / "nginx.stderr.log", "ab")
    try:
        proc = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=stderr_f, stderr=stderr_f,
            cwd=str(workdir), start_new_session=True,
        )
    finally:
        stderr_f.close()
    server = NginxRtmp(
        rtmp_port=rtmp_port, http_port=http_port, workdir=workdir, hls_dir=hls_dir,
        conf_path=conf, error_log_path=error_log, access_log_path=access_log,
        process=proc,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"nginx exited with code {proc.returncode} during startup:\n"
                    f"{server.error_log()}"
                )
            if _port_open(rtmp_port) and _port_open(http_port):
                return server
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"nginx did not open ports {rtmp_port}/{http_port} within "
                    f"{startup_timeout}s:\n{server.error_log()}"
                )
            time.sleep(0.05)
    except BaseException:
        _stop(proc)
        raise


@contextlib.contextmanager
def run_nginx_rtmp(
    *,
    hook_base_url: str,
    hook_secret: str,
    workdir: pathlib.Path,
    rtmp_port: int | None = None,
    http_port: int | None = None,
    startup_timeout: float = 15.0,
) -> Iterator[NginxRtmp]:
    """Run nginx-rtmp (rendered from the production template) for a test.

    hook_base_url: the app's base URL, e.g. live_server.url ("http://127.0.0.1:PORT").
    Hooks go to {hook_base_url}/api/streams/hooks/(publish|unpublish)/?secret=...
    Ports default to free ones (retried if another process grabs them first).
    """
    parsed = urllib.parse.urlsplit(hook_base_url)
    if parsed.scheme != "http" or not parsed.hostname:
        raise ValueError(
            f"hook_base_url must be plain http://host[:port] (nginx-rtmp cannot "
            f"notify over https): {hook_base_url!r}"
        )
    workdir = pathlib.Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    auto_ports = rtmp_port is None and http_port is None
    attempts = 3 if auto_ports else 1
    server: NginxRtmp | None = None
    for attempt in range(attempts):
        try:
            server = _start(
                hook_base_url=hook_base_url, hook_secret=hook_secret, workdir=workdir,
                rtmp_port=rtmp_port or free_port(), http_port=http_port or free_port(),
                startup_timeout=startup_timeout,
            )
            break
        except RuntimeError as exc:
            if attempt + 1 < attempts and "Address already in use" in str(exc):
                continue
            raise
    assert server is not None
    try:
        yield server
    finally:
        _stop(server.process)


# --------------------------------------------------------------------------- ffmpeg


def _ffmpeg_cmd(url: str, seconds: float) -> list[str]:
    ffmpeg = _find_exe("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg not found; apt-get install -y ffmpeg")
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-t", f"{seconds:g}",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-pix_fmt", "yuv420p", "-g", "15",
        "-c:a", "aac", "-b:a", "64k", "-ac", "1",
        "-f", "flv", url,
    ]


def ffmpeg_push(url: str, *, seconds: float, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Push `seconds` of a generated test pattern (real time) to an RTMP url.

    Returns the CompletedProcess (text stdout/stderr); check .returncode.
    Raises subprocess.TimeoutExpired (after killing ffmpeg) past `timeout`
    (default: seconds + 30).
    """
    if timeout is None:
        timeout = seconds + 30
    return subprocess.run(
        _ffmpeg_cmd(url, seconds), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )


def ffmpeg_push_background(url: str, seconds: float) -> subprocess.Popen:
    """Start the same push without waiting; caller must wait()/kill() it.

    stdout is discarded, stderr is a text PIPE (use .communicate(timeout=...)).
    """
    return subprocess.Popen(
        _ffmpeg_cmd(url, seconds), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
