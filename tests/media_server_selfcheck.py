"""Self-check for tests/media_server.py against real nginx-rtmp + ffmpeg.

Run:  python tests/media_server_selfcheck.py      (exit 0 = pass, 77 = tools missing)

Starts a stdlib HTTP hook receiver standing in for the Django app
(200 for name=goodkey, 403 otherwise), starts nginx via the harness, pushes
a good and a bad stream and checks hooks, ffmpeg exit codes and HLS output.
"""

from __future__ import annotations

import http.server
import pathlib
import secrets
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from media_server import (  # noqa: E402
    ffmpeg_push,
    ffmpeg_push_background,
    free_port,
    media_tools_available,
    run_nginx_rtmp,
)

PUBLISH = "/api/streams/hooks/publish/"
UNPUBLISH = "/api/streams/hooks/unpublish/"


class HookRecorder:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def handler(self):
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                split = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(split.query))
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                ok_secret = query.get("secret") == recorder.secret
                if split.path == PUBLISH:
                    status = 200 if ok_secret and form.get("name") == "goodkey" else 403
                elif split.path == UNPUBLISH:
                    status = 200 if ok_secret else 403
                else:
                    status = 404
                with recorder.lock:
                    recorder.calls.append(
                        {"path": split.path, "query": query, "form": form, "status": status}
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep output short
                pass

        return Handler

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.calls)


def wait_for(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def main() -> int:
    reason = media_tools_available()
    if reason:
        print(f"SKIP: {reason}")
        return 77

    secret = secrets.token_urlsafe(16)
    recorder = HookRecorder(secret)
    hook_port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", hook_port), recorder.handler())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    report: list[str] = []
    failures: list[str] = []

    def check(cond: bool, what: str) -> None:
        report.append(f"  [{'ok' if cond else 'FAIL'}] {what}")
        if not cond:
            failures.append(what)

    try:
        with tempfile.TemporaryDirectory(prefix="cunbo-media-") as tmp, run_nginx_rtmp(
            hook_base_url=f"http://127.0.0.1:{hook_port}",
            hook_secret=secret,
            workdir=pathlib.Path(tmp),
        ) as media:
            report.append(
                f"nginx-rtmp up: rtmp={media.rtmp_port} http={media.http_port} "
                f"hooks=127.0.0.1:{hook_port}"
            )

            # --- good key ----------------------------------------------------
            t0 = time.monotonic()
            good = ffmpeg_push(media.rtmp_url("goodkey"), seconds=3)
            report.append(f"goodkey push: rc={good.returncode} in {time.monotonic() - t0:.1f}s")
            check(good.returncode == 0, f"ffmpeg goodkey exit 0 (stderr: {good.stderr.strip()[-300:]!r})")
            wait_for(lambda: any(c["path"] == UNPUBLISH for c in recorder.snapshot()))
            calls = recorder.snapshot()
            paths = [c["path"] for c in calls]
            check(paths == [PUBLISH, UNPUBLISH], f"hooks in order publish, unpublish: {paths}")
            for c in calls:
                f = c["form"]
                check(
                    f.get("name") == "goodkey" and c["query"].get("secret") == secret
                    and f.get("app") == "live" and bool(f.get("addr")),
                    f"{c['path']} name=goodkey app=live addr={f.get('addr')} call={f.get('call')} "
                    f"secret ok -> {c['status']}",
                )
            if calls:
                report.append(f"  publish form fields: {sorted(calls[0]['form'])}")
            m3u8 = media.hls_playlist("goodkey")
            check(m3u8.is_file(), f"HLS playlist written: {m3u8.name}")
            segments = sorted(p.name for p in media.hls_dir.glob("goodkey-*.ts"))
            check(bool(segments), f"HLS segments: {len(segments)}")
            try:
                with urllib.request.urlopen(media.hls_url("goodkey"), timeout=5) as r:
                    body = r.read().decode()
                    ctype = r.headers.get("Content-Type")
                    cors = r.headers.get("Access-Control-Allow-Origin")
                check(
                    body.startswith("#EXTM3U") and ctype == "application/vnd.apple.mpegurl"
                    and cors == "*",
                    f"GET {urllib.parse.urlsplit(media.hls_url('goodkey')).path} -> {ctype}, CORS {cors}",
                )
            except OSError as exc:
                check(False, f"GET playlist over http: {exc}")

            # --- bad key -----------------------------------------------------
            before = len(recorder.snapshot())
            t0 = time.monotonic()
            bad = ffmpeg_push(media.rtmp_url("badkey"), seconds=3)
            report.append(f"badkey push: rc={bad.returncode} in {time.monotonic() - t0:.1f}s")
            check(bad.returncode != 0, f"ffmpeg badkey refused, exit {bad.returncode}")
            time.sleep(1.0)  # give any (wrong) publish_done a chance to arrive
            new = recorder.snapshot()[before:]
            check(
                [(c["path"], c["form"].get("name"), c["status"]) for c in new]
                == [(PUBLISH, "badkey", 403)],
                f"badkey hooks: only publish -> 403, no unpublish: "
                f"{[(c['path'], c['status']) for c in new]}",
            )
            check(not media.hls_playlist("badkey").exists(), "no HLS for badkey")
            # --- background push: playlist is served while live ---------------
            for old in media.hls_dir.glob("goodkey*"):  # drop the first push's output
                old.unlink()
            before = len(recorder.snapshot())
            proc = ffmpeg_push_background(media.rtmp_url("goodkey"), 5)

            def playlist_live() -> bool:
                try:
                    with urllib.request.urlopen(media.hls_url("goodkey"), timeout=2) as r:
                        return proc.poll() is None and b"#EXTINF" in r.read()
                except OSError:
                    return False

            t0 = time.monotonic()
            live = wait_for(playlist_live, timeout=8)
            report.append(f"background push: playlist served while live after {time.monotonic() - t0:.1f}s")
            check(live, "HLS playlist served over http while ffmpeg still pushing")
            _, err = proc.communicate(timeout=30)
            check(proc.returncode == 0, f"background ffmpeg exit 0 (stderr: {err.strip()[-300:]!r})")
            wait_for(lambda: len(recorder.snapshot()) >= before + 2)
            check(
                [c["path"] for c in recorder.snapshot()[before:]] == [PUBLISH, UNPUBLISH],
                "background push hooks: publish, unpublish",
            )
            check("[emerg]" not in media.error_log(), "no [emerg] in nginx error log")
    finally:
        httpd.shutdown()
        httpd.server_close()

    print("media server selfcheck")
    print("\n".join(report))
    print("RESULT:", "PASS" if not failures else f"FAIL ({len(failures)})")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
