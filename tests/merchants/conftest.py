import pytest

from tests.factories import MerchantFactory, OperatorFactory, VillageFactory


@pytest.fixture
def other_operator(db):
    """An operator of another county."""
    return OperatorFactory()


@pytest.fixture
def shop(village):
    """An approved shop in the ``village`` fixture's county (so ``operator`` reviews it)."""
    return MerchantFactory(village=village)


@pytest.fixture
def other_village(county):
    from tests.factories import TownshipFactory

    return VillageFactory(parent=TownshipFactory(parent=county))
from tests.catalog.conftest import categories  # noqa: E402,F401 - shared with the admin tests
