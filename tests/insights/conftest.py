from insights.recording import interactions_drain
from tests.orders.conftest import _eager_celery_and_gate, address, product  # noqa: F401 - shared fixtures


def drain() -> int:
    """What the beat task does: the buffers to Redis, the Redis queue to the database."""
    return interactions_drain()
