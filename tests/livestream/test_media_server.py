"""A real encoder push through a real nginx-rtmp into the app's hooks (Debian's libnginx-mod-rtmp + ffmpeg).

CI installs both (scripts/system-packages.sh); without them the test is skipped with the reason.
"""

import json
import time
import urllib.request

import pytest

from livestream.models import Stream
from tests.factories import StreamFactory
from tests.media_server import ffmpeg_push, ffmpeg_push_background, media_tools_available, run_nginx_rtmp

from .conftest import HOOK_SECRET

reason = media_tools_available()


def api_get(base: str, path: str) -> dict:
    with urllib.request.urlopen(f"{base}{path}", timeout=5) as response:
        return json.loads(response.read())


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.slow
@pytest.mark.skipif(reason is not None, reason=reason or "")
@pytest.mark.django_db(transaction=True)
def test_an_encoder_push_takes_the_stream_live_under_its_playback_id_and_ends_it(
        live_server, tmp_path, settings, shop, product):
    settings.MEDIA_HOOK_SECRET = HOOK_SECRET
    stream = StreamFactory(merchant=shop)
    stream.products.add(product)
    status = lambda: api_get(live_server.url, f"/api/streams/{stream.pk}/")["status"]  # noqa: E731

    with run_nginx_rtmp(hook_base_url=live_server.url, hook_secret=HOOK_SECRET, workdir=tmp_path) as media:
        # A wrong key is refused by the app (403) and so by nginx: ffmpeg fails, nothing changes.
        wrong = ffmpeg_push(media.rtmp_url("not-the-key"), seconds=2, timeout=40)
        assert wrong.returncode != 0
        assert status() == "scheduled"

        push = ffmpeg_push_background(media.rtmp_url(stream.stream_key), seconds=8)
        try:
            assert wait_for(lambda: status() == "live"), media.error_log()[-2000:]
            # nginx-rtmp renamed the publish after the 302: HLS is written under the public
            # playback id and never under the secret key.
            playlist = media.hls_playlist(stream.playback_id)
            assert wait_for(playlist.is_file), media.error_log()[-2000:]
            assert not media.hls_playlist(stream.stream_key).exists()
            assert not any(stream.stream_key in p.name for p in media.hls_dir.iterdir())
            detail = api_get(live_server.url, f"/api/streams/{stream.pk}/")
            assert detail["playback_url"].endswith(f"/{stream.playback_id}.m3u8")
            with urllib.request.urlopen(media.hls_url(stream.playback_id), timeout=5) as response:
                assert response.read().startswith(b"#EXTM3U")

            # A second encoder with the same key while the first pushes is refused.
            second = ffmpeg_push(media.rtmp_url(stream.stream_key), seconds=2, timeout=40)
            assert second.returncode != 0
            assert status() == "live"
        finally:
            _, err = push.communicate(timeout=60)
        assert push.returncode == 0, err[-500:]
        # ffmpeg stopped: on_publish_done (with the original key) ends the stream.
        assert wait_for(lambda: status() == "ended"), media.error_log()[-2000:]
    stream = Stream.objects.get(pk=stream.pk)
    assert stream.started_at and stream.ended_at and not stream.ingest_active
