from tests.orders.conftest import _eager_celery_and_gate, address  # noqa: F401 - shared fixtures
