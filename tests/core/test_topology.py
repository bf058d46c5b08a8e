"""The production topology, for real: Debian's nginx in front of the WSGI server (gunicorn, the API)
and the ASGI server (uvicorn, the sockets), on PostgreSQL and Redis, started from the deploy files
production uses (deploy/nginx.conf.template, deploy/serve-http, deploy/serve-ws).

Clients connect from different loopback addresses (127.0.0.2, 127.0.0.3, …): nginx sees each as a
client of its own, as it would see two people on the internet.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import urllib.parse

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("nginx") is None and not __import__("os").path.exists("/usr/sbin/nginx"),
                                 reason="nginx is not installed (scripts/system-packages.sh)")]

DJANGO_LIMIT = 512 * 1024  # MAX_REQUEST_BYTES of the stack
NGINX_LIMIT = "1m"


@pytest.fixture(scope="module")
def topology(django_db_blocker):
    from tests.stack import running_stack

    env = {"THROTTLE_TRACE_IP": "3/min", "FORWARDED_ALLOW_IPS": "127.0.0.1", "MAX_REQUEST_BYTES": str(DJANGO_LIMIT)}
    with django_db_blocker.unblock(), running_stack("topology", extra_env=env) as stack:
        http_base = stack.start_http(workers=2, threads=4)
        ws_base = stack.start_ws()
        front = stack.start_nginx(http=http_base, ws=ws_base, max_body=NGINX_LIMIT)
        facts = json.loads(stack.manage("shell", "-c", (
            "import json; from catalog.models import HarvestBatch; from livestream.models import Stream;"
            "print(json.dumps({'code': HarvestBatch.objects.order_by('pk').first().trace_code,"
            " 'stream': Stream.objects.order_by('pk').first().pk}))")).strip().splitlines()[-1])
        yield stack, front, http_base, facts


def _request(base: str, method: str, path: str, *, source: str = "127.0.0.2", body: bytes | None = None,
             headers: dict | None = None, connection: http.client.HTTPConnection | None = None):
    url = urllib.parse.urlsplit(base)
    conn = connection or http.client.HTTPConnection(url.hostname, url.port, timeout=15, source_address=(source, 0))
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response, data


def test_the_api_answers_through_nginx_from_the_wsgi_server(topology):
    stack, front, _http, _facts = topology
    response, data = _request(front, "GET", "/api/regions/?level=county")
    assert response.status == 200, stack.log_text()[-3000:]
    assert json.loads(data)["results"]
    assert response.getheader("Server") == "nginx"  # no version (server_tokens off), no app server named
    response, data = _request(front, "GET", "/api/health/ready/")
    assert response.status == 200, data


def test_the_throttle_sees_each_client_through_the_proxy_and_no_forged_address(topology):
    _stack, front, http_base, facts = topology
    path = f"/api/trace/{facts['code']}/"
    # Two clients, each with its own allowance of three.
    first = [_request(front, "GET", path, source="127.0.0.2")[0].status for _ in range(4)]
    second = [_request(front, "GET", path, source="127.0.0.3")[0].status for _ in range(1)]
    assert first == [200, 200, 200, 429]
    assert second == [200]
    # A client naming other addresses in X-Forwarded-For is still counted as itself: nginx replaces it.
    forged = [_request(front, "GET", path, source="127.0.0.4",
                       headers={"X-Forwarded-For": f"203.0.113.{i}"})[0].status for i in range(4)]
    assert forged == [200, 200, 200, 429]
    # Straight to the WSGI server from a peer that is not the proxy: the header is dropped, not believed.
    direct = [_request(http_base, "GET", path, source="127.0.0.5",
                       headers={"X-Forwarded-For": f"198.51.100.{i}"})[0].status for i in range(4)]
    assert direct == [200, 200, 200, 429]


def test_oversized_bodies_are_refused_by_nginx_and_by_django_with_the_envelope(topology):
    _stack, front, _http, _facts = topology
    headers = {"Content-Type": "application/json"}
    at_nginx, data = _request(front, "POST", "/api/auth/token", body=b"x" * (2 * 1024 * 1024), headers=headers,
                              source="127.0.0.6")
    assert at_nginx.status == 413
    assert json.loads(data)["error"]["code"] == "request_too_large"
    at_django, data = _request(front, "POST", "/api/auth/token", body=b"x" * (DJANGO_LIMIT + 1024), headers=headers,
                               source="127.0.0.6")
    assert at_django.status == 413
    assert json.loads(data)["error"]["code"] == "request_too_large"


def test_keep_alive_connections_are_reused_without_resets(topology):
    _stack, front, _http, _facts = topology
    url = urllib.parse.urlsplit(front)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15, source_address=("127.0.0.7", 0))
    statuses, sockets = [], set()
    try:
        for _ in range(60):
            response, _data = _request(front, "GET", "/api/regions/?level=county", connection=conn)
            statuses.append(response.status)
            sockets.add(id(conn.sock))
            assert not response.will_close
    finally:
        conn.close()
    assert statuses == [200] * 60
    assert len(sockets) == 1  # one TCP connection carried all sixty


def test_a_signed_in_viewer_chats_in_the_live_room_through_nginx(topology):
    import websockets

    stack, front, _http, facts = topology
    from accounts.demo import DEMO_PASSWORD

    response, data = _request(front, "POST", "/api/auth/token", source="127.0.0.8",
                              body=json.dumps({"username": "demo_consumer", "password": DEMO_PASSWORD}).encode(),
                              headers={"Content-Type": "application/json"})
    assert response.status == 200, data
    token = json.loads(data)["access"]
    stack.manage("shell", "-c", f"from livestream.models import Stream; Stream.objects.filter(pk={facts['stream']})"
                                ".update(status='live')")

    async def chat():
        url = front.replace("http://", "ws://") + f"/ws/streams/{facts['stream']}/"
        async with websockets.connect(url, origin=front, open_timeout=10) as socket:
            assert json.loads(await asyncio.wait_for(socket.recv(), timeout=10))["type"] == "stream.status"
            await socket.send(json.dumps({"type": "auth", "token": token}))
            await socket.send(json.dumps({"type": "chat.send", "text": "经过 nginx 的问候"}))
            for _ in range(20):
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
                if event["type"] == "chat.message":
                    return event
                assert event["type"] != "error", event
        return None

    event = asyncio.run(chat())
    assert event is not None and event["text"] == "经过 nginx 的问候"
    assert event["user"]  # the sender, as the room shows them
