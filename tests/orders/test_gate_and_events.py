"""The Redis offer gate (and its fallback), and what the live room hears after a sale."""

import pytest

from orders.checkout import gate
from orders.models import Order
from tests import factories
from tests.orders.conftest import checkout_body, pay

URL = "/api/orders/"


def _body(address, offer, quantity=1):
    return checkout_body(address, {"product": offer.product_id, "quantity": quantity, "offer": offer.pk})


@pytest.mark.django_db
def test_gate_refuses_a_sold_out_offer_without_touching_the_database(client_for, consumer, address,
                                                                    django_assert_num_queries):
    offer = factories.OfferFactory(quantity=1)
    assert client_for(consumer).post(URL, _body(address, offer), format="json").status_code == 201
    late = client_for(factories.ConsumerFactory())
    with django_assert_num_queries(0):
        response = late.post(URL, _body(address, offer), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "sold_out"


@pytest.mark.django_db
def test_gate_refuses_a_buyer_over_the_limit_without_the_database(client_for, consumer, address,
                                                                 django_assert_num_queries):
    offer = factories.OfferFactory(quantity=10, per_buyer_limit=2)
    client = client_for(consumer)
    assert client.post(URL, _body(address, offer, 2), format="json").status_code == 201
    with django_assert_num_queries(0):
        response = client.post(URL, _body(address, offer), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "over_buyer_limit"


@pytest.mark.django_db
def test_gate_is_loaded_lazily_and_reloaded_on_a_mismatch(client_for, consumer, address):
    offer = factories.OfferFactory(quantity=5)
    assert gate.gate_left(offer_id=offer.pk) is None
    assert client_for(consumer).post(URL, _body(address, offer), format="json").status_code == 201
    assert gate.gate_left(offer_id=offer.pk) == 4
    # The gate believes in more than the database has: the database refuses, the gate is corrected.
    type(offer).objects.filter(pk=offer.pk).update(remaining=0)
    refused = client_for(factories.ConsumerFactory()).post(URL, _body(address, offer), format="json")
    assert refused.status_code == 409
    assert gate.gate_left(offer_id=offer.pk) == 0


@pytest.mark.django_db
def test_reconcile_raises_a_gate_below_the_truth(client_for, consumer, address):
    offer = factories.OfferFactory(quantity=5)
    gate.offer_gate_reset(offer_id=offer.pk)
    assert gate.gate_reserve(buyer_id=consumer.pk, lines=[gate.GateLine(offer.pk, 3)]) == gate.ADMITTED
    assert gate.gate_left(offer_id=offer.pk) == 2  # as if the process died before giving them back
    assert gate.offer_gates_reconcile() == 1
    assert gate.gate_left(offer_id=offer.pk) == 5


@pytest.mark.django_db
def test_a_failed_checkout_gives_the_gate_its_units_back(client_for, consumer, address):
    offer = factories.OfferFactory(quantity=5)
    gate.offer_gate_reset(offer_id=offer.pk)
    bad = client_for(consumer).post(URL, checkout_body({**address, "village": 999999},
                                                       {"product": offer.product_id, "quantity": 2,
                                                        "offer": offer.pk}), format="json")
    assert bad.status_code == 400
    assert gate.gate_left(offer_id=offer.pk) == 5


@pytest.mark.django_db(transaction=True)
def test_cancel_returns_units_to_the_offer_and_the_gate(client_for, consumer, address):
    offer = factories.OfferFactory(quantity=5, per_buyer_limit=2)
    client = client_for(consumer)
    order_id = client.post(URL, _body(address, offer, 2), format="json").json()["id"]
    assert gate.gate_left(offer_id=offer.pk) == 3
    assert client.post(f"{URL}{order_id}/cancel/").status_code == 200
    offer.refresh_from_db()
    assert offer.remaining == 5 and gate.gate_left(offer_id=offer.pk) == 5
    assert client.post(URL, _body(address, offer, 2), format="json").status_code == 201  # limit freed too


@pytest.mark.django_db
def test_unreachable_redis_falls_back_to_the_database(client_for, address, settings):
    settings.ORDERS_GATE_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    offer = factories.OfferFactory(quantity=2)
    codes = [client_for(factories.ConsumerFactory()).post(URL, _body(address, offer), format="json").status_code
             for _ in range(4)]
    assert codes == [201, 201, 409, 409]
    offer.refresh_from_db()
    assert offer.remaining == 0 and Order.objects.count() == 2


# --- the live room ---------------------------------------------------------------------------------

def _drain(listener, *, wait: float) -> list[dict]:
    return listener.drain(wait=wait)


def _subscribe(stream_id: int):
    from tests.livestream.listen import RoomListener

    return RoomListener(stream_id)


@pytest.mark.django_db(transaction=True)
def test_the_room_hears_the_sale_and_the_sell_out_after_commit(client_for, address):
    buyer = factories.ConsumerFactory(last_name="王", first_name="小明")
    offer = factories.OfferFactory(quantity=2)
    channel = _subscribe(offer.stream_id)
    client = client_for(buyer)
    response = client.post(URL, _body(address, offer, 2), format="json")
    assert response.status_code == 201
    events = _drain(channel, wait=1.0)
    assert {"type": "offer.updated", "offer": offer.pk, "remaining": 0} in events
    assert {"type": "offer.ended", "offer": offer.pk, "remaining": 0, "reason": "sold_out"} in events
    assert not [e for e in events if e["type"] == "sale.made"]  # ordered is not sold: that waits for the payment
    pay(client, response.json()["id"])
    assert {"type": "sale.made", "product": offer.product_id, "quantity": 2, "buyer": "王**"} in _drain(channel,
                                                                                                        wait=1.0)


@pytest.mark.django_db(transaction=True)
def test_a_failed_checkout_tells_the_room_nothing(client_for, address, monkeypatch):
    """The answer is rendered before the write (it is stored with the order): if that fails, nothing
    is written, the room hears nothing, the gate gets its units back and the key is free again."""
    from orders import api

    offer = factories.OfferFactory(quantity=5)
    channel = _subscribe(offer.stream_id)

    def broken(order):
        raise RuntimeError("rendering the answer failed")

    monkeypatch.setattr(api, "order_output_data", broken)
    client = client_for(factories.ConsumerFactory())
    client.raise_request_exception = False
    response = client.post(URL, _body(address, offer), format="json", HTTP_IDEMPOTENCY_KEY="boom")
    assert response.status_code == 500
    assert _drain(channel, wait=0.5) == []
    offer.refresh_from_db()
    assert offer.remaining == 5 and not Order.objects.exists()
    assert gate.gate_left(offer_id=offer.pk) == 5
    monkeypatch.undo()
    retry = client.post(URL, _body(address, offer), format="json", HTTP_IDEMPOTENCY_KEY="boom")
    assert retry.status_code == 201 and Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refused_one_statement_checkout_writes_nothing(client_for, address, settings):
    """The hot path writes the order, the buyer's counter and the offer's units in one statement:
    when the database refuses any of them, none of the others remain."""
    from orders.models import MerchantOrder, OfferPurchase, OrderLine

    offer = factories.OfferFactory(quantity=10, per_buyer_limit=3)
    buyer = factories.ConsumerFactory()
    client = client_for(buyer)
    assert client.post(URL, _body(address, offer, 2), format="json").status_code == 201

    def rows():
        offer.refresh_from_db()
        return (Order.objects.count(), MerchantOrder.objects.count(), OrderLine.objects.count(),
                OfferPurchase.objects.get(offer=offer, buyer=buyer).quantity, offer.remaining)

    # The offer refuses (the gate still believes in 8 units): the counter's +1 is undone too.
    type(offer).objects.filter(pk=offer.pk).update(remaining=0)
    refused = client.post(URL, _body(address, offer, 1), format="json", HTTP_IDEMPOTENCY_KEY="late")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sold_out"
    assert rows() == (1, 1, 1, 2, 0)
    again = client.post(URL, _body(address, offer, 1), format="json", HTTP_IDEMPOTENCY_KEY="late")
    assert again.status_code == 409 and again.json() == refused.json()  # the refusal is the key's answer

    # The counter refuses (no gate to refuse first): the offer's units taken in the statement come back.
    settings.ORDERS_GATE_REDIS_URL = ""
    type(offer).objects.filter(pk=offer.pk).update(remaining=5)
    over = client.post(URL, _body(address, offer, 2), format="json")
    assert over.status_code == 409 and over.json()["error"]["code"] == "over_buyer_limit"
    assert rows() == (1, 1, 1, 2, 5)
    assert client.post(URL, _body(address, offer, 1), format="json").status_code == 201
    assert rows() == (2, 2, 2, 3, 4)


@pytest.mark.django_db
def test_many_request_threads_share_a_small_pool_without_tripping_the_breaker(settings):
    """Threads wait for a free Redis connection instead of failing over to the database."""
    import threading

    settings.ORDERS_GATE_MAX_CONNECTIONS = 2
    gate.gate_reset_breaker()
    offer = factories.OfferFactory(quantity=100)
    gate.offer_gate_reset(offer_id=offer.pk)
    start = threading.Barrier(32)
    answers = []

    def buy(buyer_id):
        start.wait()
        for _ in range(3):
            answers.append(gate.gate_reserve(buyer_id=buyer_id, lines=[gate.GateLine(offer.pk, 1)]))

    threads = [threading.Thread(target=buy, args=(10_000 + n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(gate.ADMITTED) == 96 and len(answers) == 96
    assert gate.gate_left(offer_id=offer.pk) == 4
    gate.gate_reset_breaker()
