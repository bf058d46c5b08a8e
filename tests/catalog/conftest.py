import pytest

from tests.factories import CategoryFactory


@pytest.fixture
def categories(db):
    vegetables = CategoryFactory(name="蔬菜", slug="vegetables")
    tomatoes = CategoryFactory(name="番茄", slug="tomatoes", parent=vegetables)
    tea = CategoryFactory(name="茶叶", slug="tea")
    processed = CategoryFactory(name="加工食品", slug="processed")
    return {"vegetables": vegetables, "tomatoes": tomatoes, "tea": tea, "processed": processed}
