"""Clients generated from the OpenAPI document work (slow: they run in CI).

A Python client from openapi-python-client (the dev extra) drives a buyer's flow against a real
server: register, token, search, checkout with an Idempotency-Key (replayed), pay, and a 409 read as
the typed error envelope. A TypeScript client from openapi-typescript (clients/, installed by
scripts/node-tools.sh) type-checks with tsc against clients/buyer-flow.ts.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.stack import ROOT, VENV_BIN, running_stack

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

CLIENTS = ROOT / "clients"
NODE_BIN = CLIENTS / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def served(django_db_blocker):
    """A seeded server and its schema as the server itself answers it."""
    with django_db_blocker.unblock(), running_stack("clients", extra_env={"LOG_LEVEL": "ERROR"}) as stack:
        base = stack.start_server()
        with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=30) as response:
            schema = json.loads(response.read())
        yield base, schema


def _generate_python_client(schema: dict, workdir: Path):
    path = workdir / "schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    run = subprocess.run([str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(path), "--meta", "none",
                          "--output-path", str(workdir / "cunbo_client")],
                         capture_output=True, text=True, timeout=240, cwd=workdir)
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(workdir))
    try:
        package = importlib.import_module("cunbo_client")
        broken = []
        for module in sorted((workdir / "cunbo_client" / "api").rglob("*.py")):
            name = ".".join(module.relative_to(workdir).with_suffix("").parts)
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - every module that fails to import is the finding
                broken.append(f"{name}: {exc!r}")
        assert broken == [], "\n".join(broken)
        return package
    finally:
        sys.path.remove(str(workdir))


def _api(name: str):
    return importlib.import_module(f"cunbo_client.api.{name}")


def _models():
    return importlib.import_module("cunbo_client.models")


def test_a_generated_python_client_runs_a_buyers_flow(served, tmp_path):
    base, schema = served
    client_package = _generate_python_client(schema, tmp_path)
    models = _models()
    anonymous = client_package.Client(base_url=base, raise_on_unexpected_status=True)
    username = f"gen{uuid.uuid4().hex[:8]}"

    registered = _api("auth.auth_register").sync_detailed(client=anonymous, body=models.RegisterInputRequest.from_dict(
        {"username": username, "password": "Client-flow-2026!", "role": "consumer"}))
    assert registered.status_code == 201, registered.content
    tokens = _api("auth.auth_token").sync(client=anonymous, body=models.TokenObtainInputRequest(
        username=username, password="Client-flow-2026!"))
    assert isinstance(tokens, models.TokenPairOutput), tokens
    buyer = client_package.AuthenticatedClient(base_url=base, token=tokens.access, raise_on_unexpected_status=True)

    wrong = _api("auth.auth_token").sync_detailed(client=anonymous, body=models.TokenObtainInputRequest(
        username=username, password="not-the-password"))
    assert wrong.status_code == 401 and isinstance(wrong.parsed, models.ErrorEnvelope), wrong.content

    found = _api("products.products_list").sync(client=buyer, search="西红柿")
    assert found.count >= 1, found
    product = found.results[0]
    villages = _api("regions.regions_list").sync(client=buyer, level=_enum(models, "RegionsListLevel", "village"))
    village = (villages.results if hasattr(villages, "results") else villages)[0]

    body = models.CheckoutInputRequest.from_dict({
        "items": [{"product": product.id, "quantity": 1}],
        "address": {"village": village.id, "detail": "3号院", "recipient": "李四", "phone": "13800000001"}})
    key = uuid.uuid4().hex
    checkout = _api("orders.orders_create")
    first = checkout.sync_detailed(client=buyer, body=body, idempotency_key=key)
    assert first.status_code == 201, first.content
    order = first.parsed
    assert isinstance(order, models.OrderOutput) and str(order.status) == "pending_payment"
    replay = checkout.sync_detailed(client=buyer, body=body, idempotency_key=key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.parsed.id == order.id

    payment = _api("orders.orders_pay").sync(order_id=order.id, client=buyer, idempotency_key=uuid.uuid4().hex)
    assert isinstance(payment, models.PaymentOutput), payment
    assert payment.amount == order.total

    cancelled = _api("orders.orders_cancel").sync_detailed(order_id=order.id, client=buyer)
    assert cancelled.status_code == 200, cancelled.content
    refused = _api("orders.orders_pay").sync_detailed(order_id=order.id, client=buyer, idempotency_key=uuid.uuid4().hex)
    assert refused.status_code == 409, refused.content
    assert isinstance(refused.parsed, models.ErrorEnvelope), refused.parsed
    assert refused.parsed.error.code and refused.parsed.error.message


def _enum(models, name: str, value: str):
    enum = getattr(models, name, None)
    return enum(value) if enum else value


@pytest.mark.skipif(not (NODE_BIN / "tsc").exists(), reason="clients/node_modules missing: bash scripts/node-tools.sh")
def test_a_generated_typescript_client_type_checks(served, tmp_path):
    _base, schema = served
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    generated = subprocess.run([str(NODE_BIN / "openapi-typescript"), str(tmp_path / "schema.json"),
                                "--default-non-nullable", "false", "-o", str(tmp_path / "schema.d.ts")],
                               capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    shutil.copy(CLIENTS / "buyer-flow.ts", tmp_path / "buyer-flow.ts")
    checked = subprocess.run([str(NODE_BIN / "tsc"), "--noEmit", "--strict", "--target", "es2022", "--module",
                              "es2022", "--moduleResolution", "bundler", "--lib", "es2022,dom",
                              str(tmp_path / "buyer-flow.ts")], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
