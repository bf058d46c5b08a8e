import threading

import pytest
from django.db import connection

from core.models import IdempotencyKey
from regions.models import Region
from tests.factories import ConsumerFactory

URL = "/api/test/counties/"
pytestmark = pytest.mark.urls("tests.core.urls")


@pytest.mark.django_db
def test_same_key_same_body_replays_the_first_answer(client_for, consumer):
    client = client_for(consumer)
    body = {"name": "一县", "code": "100001"}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Region.objects.filter(code="100001").count() == 1


@pytest.mark.django_db
def test_same_key_other_body_is_422(client_for, consumer):
    client = client_for(consumer)
    client.post(URL, {"name": "一县", "code": "100001"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = client.post(URL, {"name": "二县", "code": "100002"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert not Region.objects.filter(code="100002").exists()


@pytest.mark.django_db
def test_keys_belong_to_their_user(client_for, consumer):
    body = {"name": "一县", "code": "100001"}
    assert client_for(consumer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    other_user = client_for(ConsumerFactory()).post(
        URL, {"name": "二县", "code": "100002"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other_user.status_code == 201


@pytest.mark.django_db
def test_a_refusal_is_replayed_and_writes_nothing(client_for, consumer):
    client = client_for(consumer)
    body = {"name": "一县", "code": "100001", "refuse": True}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    second = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == second.status_code == 409
    assert first.json() == second.json()
    assert not Region.objects.exists()


@pytest.mark.django_db
def test_invalid_body_releases_the_key(client_for, consumer):
    client = client_for(consumer)
    bad = client.post(URL, {"name": "一县"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-3").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_result_and_a_409(client_for):
    consumer = ConsumerFactory()
    body = {"name": "并发县", "code": "200001", "pause": 0.5}
    results = []

    def attempt():
        try:
            response = client_for(consumer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [201, 409, 409, 409]
    assert Region.objects.filter(code="200001").count() == 1
    replay = client_for(consumer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert replay.status_code == 201
    assert Region.objects.filter(code="200001").count() == 1
