"""Faults the product must survive: a killed database connection, a paused or lost Redis."""

import json
import urllib.error
import urllib.request

import psycopg
import pytest

from tests.stack import _server_dsn, running_stack

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def stack(django_db_blocker):
    with django_db_blocker.unblock(), running_stack("faults") as stack:
        stack.base = stack.start_server(workers=1)
        yield stack


def test_connections_killed_between_requests_are_replaced_before_a_request_sees_them(stack):
    url = f"{stack.base}/api/regions/?level=county"
    assert _get(url)[0] == 200
    with psycopg.connect(_server_dsn(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [stack.database],
        ).fetchone()[0]
    assert killed >= 1  # the pool's idle connections were there and are now dead
    statuses = [_get(url)[0] for _ in range(6)]
    assert statuses == [200] * 6  # the pool checked each connection out and replaced the dead ones
    assert "Traceback" not in stack.log_text()
