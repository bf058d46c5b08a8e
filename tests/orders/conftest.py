import pytest

from marketplace.celery import app as celery_app
from orders.checkout.gate import gate_reset_breaker
from tests import factories


@pytest.fixture(autouse=True)
def _eager_celery_and_gate():
    """Tasks queued on commit (refunds) run at once in the tests; the gate starts with no memory of a
    Redis failure."""
    eager, propagate = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    gate_reset_breaker()
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager, propagate


@pytest.fixture
def product(shop):
    return factories.ProductFactory(merchant=shop, stock=100)


@pytest.fixture
def address(village):
    return {"village": village.pk, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}


def checkout_body(address, *items, **extra):
    return {"items": [dict(item) for item in items], "address": address, **extra}


def run_parallel(jobs, *, workers: int = 32):
    """Run callables in real threads (each with its own DB connection, closed at the end); results in order."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    start = threading.Barrier(min(workers, len(jobs)))

    def wrap(job):
        def run():
            try:
                try:
                    start.wait(timeout=5)
                except threading.BrokenBarrierError:
                    pass
                return job()
            finally:
                connection.close()
        return run

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [f.result() for f in [pool.submit(wrap(job)) for job in jobs]]


def pay(client, order_id):
    """The buyer opens a payment and the sandbox provider's signed notice says it succeeded."""
    from payments.models import Payment
    from payments.providers.sandbox import sandbox_notice
    from payments.signature import sign

    payment = Payment.objects.get(pk=client.post(f"/api/orders/{order_id}/pay/", {}, format="json").json()["id"])
    body = sandbox_notice(payment=payment)
    response = client.post("/api/payments/webhook/sandbox/", body, content_type="application/json",
                           HTTP_X_CUNBO_SIGNATURE=sign(body))
    assert response.json() == {"outcome": "paid"}


@pytest.fixture
def paid_order(client_for, consumer, product, address):
    """A paid order of ``consumer`` for 2 units of ``product`` (total 28.00: 25.00 + 3.00 delivery)."""
    from orders.models import Order
    from payments.models import Payment
    from payments.providers.sandbox import sandbox_notice
    from payments.signature import sign

    client = client_for(consumer)
    order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 2}),
                           format="json").json()["id"]
    payment = Payment.objects.get(pk=client.post(f"/api/orders/{order_id}/pay/", {}, format="json").json()["id"])
    body = sandbox_notice(payment=payment)
    response = client.post("/api/payments/webhook/sandbox/", body, content_type="application/json",
                           HTTP_X_CUNBO_SIGNATURE=sign(body))
    assert response.json() == {"outcome": "paid"}
    return Order.objects.get(pk=order_id)


def ship_and_deliver(merchant_order):
    """What the logistics app does through orders/status.py."""
    from orders.status import merchant_order_transition

    merchant_order_transition(merchant_order, "shipped")
    merchant_order_transition(merchant_order, "delivered")
    return merchant_order
