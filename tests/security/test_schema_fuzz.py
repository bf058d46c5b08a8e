"""Schemathesis against the running ASGI app (uvicorn, PostgreSQL, Redis, seed_demo data).

Every operation of the OpenAPI schema is exercised as each role, with a bounded
number of examples; the checks are no server error and responses that match
the schema (error envelope included).
"""

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.stack import ROOT, running_stack

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ROLES = {
    "anonymous": None,
    "consumer": "demo_consumer",
    "operator": "shouguang_operator",
    "merchant": "sanyuanzhu_coop",
    "admin": "fuzz_admin",
}
DEMO_PASSWORD = "cunbo-demo-2026"
MAX_EXAMPLES = 6


def _token(base: str, username: str) -> str | None:
    body = json.dumps({"username": username, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(f"{base}/api/auth/token", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return json.load(response)["access"]
    except OSError:
        return None


@pytest.fixture(scope="module")
def fuzz_stack(django_db_blocker):
    relaxed = {"LOGIN_GUARD_ADDRESS_FAILURES": "100000", "LOGIN_GUARD_FREE_FAILURES": "100000",
               "THROTTLE_REGISTER_IP": "10000/min", "THROTTLE_CHECKOUT_USER": "10000/min",
               "THROTTLE_CHECKOUT_IP": "10000/min", "THROTTLE_TRACE_IP": "10000/min"}
    with django_db_blocker.unblock(), running_stack("fuzz", extra_env=relaxed) as stack:
        stack.manage("shell", "-c", (
            "from accounts.models import User;"
            f"User.objects.filter(username='fuzz_admin').exists() or "
            f"User.objects.create_superuser('fuzz_admin', 'fuzz@example.com', '{DEMO_PASSWORD}')"
        ))
        base = stack.start_server(workers=2)
        yield stack, base


@pytest.mark.parametrize("role", list(ROLES))
def test_no_server_errors_and_responses_match_the_schema(fuzz_stack, role, tmp_path):
    stack, base = fuzz_stack
    headers = []
    if ROLES[role]:
        token = _token(base, ROLES[role])
        if token is None:
            pytest.skip(f"seed_demo has no {role} user {ROLES[role]!r} yet")
        headers = ["-H", f"Authorization: Bearer {token}"]
    report = tmp_path / "report.json"
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{base}/api/schema/", "--checks",
         "not_a_server_error,response_schema_conformance", "--max-examples", str(MAX_EXAMPLES),
         "--seed", "20261125", "--workers", "1", "--phases", "examples,coverage,fuzzing",
         "--request-timeout", "20", "--no-shrink", "--report", "json", "--report-json-path", str(report),
         *headers],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    failures = result.stdout.partition("= FAILURES =")[2][:8000] or result.stdout[-6000:]
    assert result.returncode == 0, f"{role}:\n{failures}\n{result.stderr[-2000:]}\n{stack.log_text()[-3000:]}"
    shutil.rmtree(tmp_path, ignore_errors=True)
