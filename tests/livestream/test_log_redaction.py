"""Secrets in logs (issue #12, finding 4): a real server's log, read back after a real run."""

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from .conftest import token_for
from .servers import uvicorn_servers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOOK = "the-media-hook-secret-" + "s" * 20
PASSWORD = "my-Pa55word-in-a-url"


def http(port: int, path: str, *, data: bytes | None = None, headers: dict | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_no_secret_reaches_the_server_log(live_stream, viewer, tmp_path):
    from websockets.asyncio.client import connect

    access = token_for(viewer)
    refresh = str(RefreshToken.for_user(viewer))
    with uvicorn_servers(1, tmp_path, log_level="info", MEDIA_HOOK_SECRET=HOOK) as [(port, log)]:
        async def chat():
            url = f"ws://127.0.0.1:{port}/ws/streams/{live_stream.pk}/?token={access}"
            async with connect(url, origin="http://localhost", compression=None, open_timeout=30) as ws:
                await ws.send(json.dumps({"type": "chat.send", "text": "你好"}))
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "chat.message":
                    pass

        asyncio.run(chat())
        form = urllib.parse.urlencode({"call": "publish", "name": "no-such-key", "app": "live", "addr": "203.0.113.9"})
        assert http(port, f"/api/streams/hooks/publish/?secret={HOOK}", data=form.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"}) in (403, 404)
        query = urllib.parse.urlencode({"access": access, "refresh_token": refresh, "password": PASSWORD})
        assert http(port, f"/api/me?{query}") == 401
        assert http(port, f"/api/streams/{live_stream.pk}/?token={access}") == 200
    text = log.read_text()
    # The run was logged (access lines for the socket, the hook and the API calls)...
    assert f"/ws/streams/{live_stream.pk}/?token=[redacted]" in text, text
    assert "/api/streams/hooks/publish/?secret=[redacted]" in text, text
    assert "/api/me?access=[redacted]&refresh_token=[redacted]&password=[redacted]" in text, text
    # ...and not one secret, whole or in part.
    for secret in (access, refresh, HOOK, PASSWORD, access.split(".")[1], access.split(".")[2]):
        assert secret not in text
