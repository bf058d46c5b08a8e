from decimal import Decimal

import pytest

from tests.factories import ProductFactory
from tests.orders.conftest import _eager_celery_and_gate, address, paid_order, product  # noqa: F401

from .helpers import sold


@pytest.fixture
def apples(shop):
    return ProductFactory(merchant=shop, price=Decimal("40.00"))


@pytest.fixture
def pears(shop):
    return ProductFactory(merchant=shop, price=Decimal("33.33"))


@pytest.fixture
def mixed_order(shop, consumer, village, apples, pears):
    """Apples 1 × 40.00 at 5 % + 1 %, pears 2 × 33.33 at 8 % + 2 %, delivery 8.00: goods 106.66,
    commission 2.00 + 5.33, service fee 0.40 + 1.33, the shop's share 97.60."""
    return sold(merchant=shop, buyer=consumer, village=village, delivery=Decimal("8.00"),
                lines=[(apples, 1, "0.05", "0.01"), (pears, 2, "0.08", "0.02")])
