import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core.jwt_auth import TOKEN_VERSION_CLAIM
from ledger.checks import ledger_check

from . import factories


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis database (cache, throttles, channel layer)."""
    cache.clear()
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that used the database (and passed), the ledger's invariants hold
    (ledger/checks.py): every posting and the whole ledger sum to zero, no settlement refunded
    beyond what was paid. Run before the test's own teardown, inside its database state."""
    result = yield
    if item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(item.fixturenames):
        report = ledger_check()
        assert report.ok, f"the ledger's invariants broke: {report.problems}"
    return result


@pytest.fixture
def api_client():
    return APIClient()


def bearer(user) -> dict:
    """An access token for ``user`` at its token version (as loaded), made without the database."""
    token = AccessToken.for_user(user)
    token[TOKEN_VERSION_CLAIM] = user.token_version
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def client_for():
    """``client_for(user)``: an APIClient that sends a real JWT for ``user``."""

    def make(user):
        client = APIClient()
        if user is not None:
            client.credentials(**bearer(user))
        return client

    return make


@pytest.fixture
def county(db):
    return factories.CountyFactory()


@pytest.fixture
def village(county):
    return factories.VillageFactory(parent=factories.TownshipFactory(parent=county))


@pytest.fixture
def consumer(db):
    return factories.ConsumerFactory()


@pytest.fixture
def merchant_user(db):
    return factories.MerchantUserFactory()


@pytest.fixture
def operator(county):
    return factories.OperatorFactory(county=county)


@pytest.fixture
def admin_user(db):
    return factories.AdminFactory()


@pytest.fixture
def other_operator(db):
    """An operator of another county."""
    return factories.OperatorFactory()


@pytest.fixture
def shop(village):
    """An approved shop in the ``village`` fixture's county (so ``operator`` reviews it)."""
    return factories.MerchantFactory(village=village)


@pytest.fixture
def other_village(county):
    """Another village of the same county."""
    return factories.VillageFactory(parent=factories.TownshipFactory(parent=county))
