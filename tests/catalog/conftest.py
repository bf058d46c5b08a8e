import pytest

from tests.factories import CategoryFactory, MerchantFactory, OperatorFactory, TownshipFactory, VillageFactory


@pytest.fixture
def other_operator(db):
    return OperatorFactory()


@pytest.fixture
def shop(village):
    """An approved shop in the ``village`` fixture's county (so ``operator`` reviews it)."""
    return MerchantFactory(village=village)


@pytest.fixture
def other_village(county):
    return VillageFactory(parent=TownshipFactory(parent=county))


@pytest.fixture
def categories(db):
    vegetables = CategoryFactory(name="蔬菜", slug="vegetables")
    tomatoes = CategoryFactory(name="番茄", slug="tomatoes", parent=vegetables)
    tea = CategoryFactory(name="茶叶", slug="tea")
    processed = CategoryFactory(name="加工食品", slug="processed")
    return {"vegetables": vegetables, "tomatoes": tomatoes, "tea": tea, "processed": processed}
