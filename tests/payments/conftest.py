from tests.orders.conftest import _eager_celery_and_gate, address, product  # noqa: F401
