import pytest

from tests.orders.conftest import _eager_celery_and_gate, address, product  # noqa: F401


def adoption_body(product, **extra):  # noqa: F811 - the fixture's value
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    body = {"title": "认养一棵猕猴桃树", "kind": "tree", "product": product.pk,
            "season_from": (today + datetime.timedelta(days=5)).isoformat(),
            "season_to": (today + datetime.timedelta(days=200)).isoformat(),
            "schedule": {"every": "month", "first_delivery": (today + datetime.timedelta(days=10)).isoformat(),
                         "deliveries": 3},
            "quantity": 2, "price": "300.00", "cap": 3}
    body.update(extra)
    return body


@pytest.fixture
def adoption(client_for, shop, product):  # noqa: F811 - the orders' fixture
    response = client_for(shop.user).post("/api/adoptions/", adoption_body(product), format="json")
    assert response.status_code == 201, response.json()
    return response.json()
