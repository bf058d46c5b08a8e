import pytest

from insights.recording import interactions_drain
from tests import factories
from tests.orders.conftest import _eager_celery_and_gate  # noqa: F401 - tasks at once, a fresh gate


@pytest.fixture
def product(shop):
    return factories.ProductFactory(merchant=shop, stock=100)


@pytest.fixture
def address(village):
    return {"village": village.pk, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}


def drain() -> int:
    """What the beat task does: the buffers to Redis, the Redis queue to the database."""
    return interactions_drain()
