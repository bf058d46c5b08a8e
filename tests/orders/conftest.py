import pytest

from marketplace.celery import app as celery_app
from orders.gate import gate_reset_breaker
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
def shop(village):
    return factories.MerchantFactory(village=village)


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
