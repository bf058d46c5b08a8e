from tests.orders.conftest import _eager_celery_and_gate, address, paid_order, product  # noqa: F401
