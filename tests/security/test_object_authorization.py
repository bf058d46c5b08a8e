"""Object-level authorization (OWASP API1), generated from the URL configuration.

Every route under /api/ whose path names an object (an id or a code) is collected from the
resolver; each must have an entry in ``TABLE`` below, or the test for it fails with its name.
For each (route, method) × attacker — anonymous, another consumer, and the merchant, operator
(and courier) of another county — the request on county A's object must answer exactly what the
same request on a nonexistent id answers (status and body: ids do not leak), that answer must be
404 (401 for an anonymous caller where login is required), and no row of any project table may
change. Public reads and open actions are declared with the status they answer instead. The
object's owner is checked too (role ``owner``), so each entry is proven to point at a real,
reachable object: a wrong id in the table cannot make a check pass by accident.

List endpoints are checked in test_list_scoping below.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.utils import timezone

from tests.security.conftest import FIGURE_SETS, FIGURES, snapshot, snapshot_diff
from tests.security.routes import ApiRoute, list_routes, object_routes
from tests.security.world import (
    NONEXISTENT,
    NONEXISTENT_CODE,
    PAYOUT_ACCOUNTS,
    World,
    client_for,
    pdf_file,
    png_file,
)


def _has_model(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


# A courier account of county B (scan and carry only) with its courier profile.
ATTACKERS = ("anonymous", "consumer_b", "merchant_b", "operator_b") + (
    ("courier_b",) if _has_model("logistics.Courier") else ())
EVERYONE = {role: 200 for role in ATTACKERS}


@dataclass
class Op:
    """One method of a route."""

    owner: Callable[[World], object]  # who may do it on county A's object
    owner_status: int
    body: Callable[[World], dict] | None = None
    multipart: bool = False
    public: dict[str, int] = field(default_factory=dict)  # attacker -> status on A's object (public/open)
    changes: frozenset[str] = frozenset()  # tables an allowed public action may change
    missing_status: int | None = None  # what a nonexistent object answers, when not 404/401
    secrets: Callable[[World], list[str]] | None = None  # what a public answer must never show an attacker
    absent: Callable[[World], set] | None = None  # ids a public list shows its owner but no attacker
    kwargs: Callable[[World], dict] | None = None  # this method's own object, when not the entry's


@dataclass
class Entry:
    kwargs: Callable[[World], dict]
    ops: dict[str, Op]
    hidden: Callable[[World], dict] | None = None  # a non-public object of a public route
    crossed: Callable[[World], dict] | None = None  # county B's parent with county A's child (answers as B's
    # parent with a nonexistent child)
    query: Callable[[World], dict] | None = None  # the object named in the query string (``?merchant=``),
    # pointed at a missing one like a path id


def today(days: int = 0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


a_merchant = lambda w: w.a.merchant_user  # noqa: E731
a_consumer = lambda w: w.a.consumer  # noqa: E731
a_operator = lambda w: w.a.operator  # noqa: E731


def shop_secrets(w: World) -> list[str]:
    """County A's shop numbers only its owner and county staff see in full."""
    return [w.a.shop.contact_phone, w.a.credential.number, w.credential_pending.number,
            w.a.merchant_user.phone or "-"]

def ledger_secrets(w: World) -> list[str]:
    """What only county A's shop sees of its money and its members (as they appear in an answer:
    amounts are quoted strings, a row's merchant order an integer key)."""
    return [repr(w.ledger_a["pending"]), repr(w.ledger_a["available"]), w.a.shop.shop_name,
            f"'merchant_order': {w.mo_released.pk},", *member_secrets(w), w.a.member.name, w.member_free.name]


def member_secrets(w: World) -> list[str]:
    """A member household's mobile and payout account (the account is never shown whole, even to its shop)."""
    return [w.a.member.phone, w.member_free.phone, w.a.member.payout_account, w.member_free.payout_account]


TABLE: dict[str, Entry] = {
    # --- adoptions ------------------------------------------------------------------------
    "adoption-detail": Entry(
        kwargs=lambda w: {"adoption_id": w.a.adoption.pk}, hidden=lambda w: {"adoption_id": w.adoption_closed.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE)}),
    "adoption-adopt": Entry(
        kwargs=lambda w: {"adoption_id": w.a.adoption.pk}, hidden=lambda w: {"adoption_id": w.adoption_closed.pk},
        ops={"POST": Op(a_consumer, 201, body=lambda w: {"address": {
            "village": w.b.buyer_village.pk, "detail": "1号", "recipient": "李四", "phone": "13800004321"}},
            public={"consumer_b": 201}, changes=frozenset({
                "farming_subscription", "farming_delivery", "orders_order", "orders_merchantorder",
                "orders_orderline", "orders_pendinghold"}))}),
    "adoption-updates": Entry(
        kwargs=lambda w: {"adoption_id": w.a.adoption.pk},
        ops={"GET": Op(a_consumer, 200), "POST": Op(a_merchant, 201, body=lambda w: {"note": "结果了"})}),
    "adoption-subscription-cancel": Entry(
        kwargs=lambda w: {"subscription_id": w.a.subscription.pk}, ops={"POST": Op(a_consumer, 200)}),
    # --- merchants -------------------------------------------------------------------------
    "merchant-detail": Entry(
        kwargs=lambda w: {"pk": w.a.shop.pk}, hidden=lambda w: {"pk": w.shop_pending.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE, secrets=shop_secrets),
             "PATCH": Op(a_merchant, 200, body=lambda w: {"description": "被别人改了"})}),
    "merchant-resubmit": Entry(
        kwargs=lambda w: {"pk": w.shop_rejected.pk},
        ops={"POST": Op(lambda w: w.shop_rejected.user, 200, body=lambda w: {"note": "补充了材料"})}),
    "merchant-review": Entry(
        kwargs=lambda w: {"pk": w.a.shop.pk},
        ops={"POST": Op(a_operator, 200, body=lambda w: {"decision": "suspend", "reason": "抽检不合格"})}),
    "merchant-events": Entry(kwargs=lambda w: {"pk": w.a.shop.pk}, ops={"GET": Op(a_operator, 200)}),
    "merchant-follow": Entry(
        kwargs=lambda w: {"pk": w.a.shop.pk}, hidden=lambda w: {"pk": w.shop_pending.pk},
        ops={"POST": Op(a_consumer, 201, public={"consumer_b": 201}, changes=frozenset({"merchants_follow"})),
             "DELETE": Op(a_consumer, 200, public={"consumer_b": 200})}),
    "merchant-credentials": Entry(
        kwargs=lambda w: {"pk": w.a.shop.pk}, hidden=lambda w: {"pk": w.shop_pending.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE, secrets=shop_secrets,
                       absent=lambda w: {w.credential_pending.pk}),
             "POST": Op(a_merchant, 201, multipart=True, body=lambda w: {
                 "kind": "geo_indication", "number": "GI-2026-0001", "file": pdf_file()})}),
    "credential-review": Entry(
        kwargs=lambda w: {"pk": w.a.shop.pk, "credential_id": w.credential_pending.pk},
        crossed=lambda w: {"pk": w.b.shop.pk, "credential_id": w.credential_pending.pk},
        ops={"POST": Op(a_operator, 200, body=lambda w: {"decision": "approve"})}),
    "credential-file": Entry(
        kwargs=lambda w: {"pk": w.a.shop.pk, "credential_id": w.credential_pending.pk},
        crossed=lambda w: {"pk": w.b.shop.pk, "credential_id": w.credential_pending.pk},
        ops={"GET": Op(a_merchant, 200)}),
    # --- catalog ---------------------------------------------------------------------------
    "product-detail": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk}, hidden=lambda w: {"pk": w.product_pending.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE, secrets=shop_secrets),
             "PATCH": Op(a_merchant, 200, body=lambda w: {"description": "被别人改了"})}),
    "product-similar": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk}, hidden=lambda w: {"pk": w.product_pending.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE, secrets=shop_secrets)}),
    "product-review": Entry(
        kwargs=lambda w: {"pk": w.product_pending.pk},
        ops={"POST": Op(a_operator, 200, body=lambda w: {"decision": "approve"})}),
    "product-delist": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk},
        ops={"POST": Op(a_merchant, 200, body=lambda w: {"reason": "卖完了"})}),
    "product-relist": Entry(kwargs=lambda w: {"pk": w.product_delisted.pk}, ops={"POST": Op(a_merchant, 200)}),
    "product-stock": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk}, ops={"POST": Op(a_merchant, 200, body=lambda w: {"delta": 5})}),
    "product-images": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk},
        ops={"POST": Op(a_merchant, 201, multipart=True, body=lambda w: {"image": png_file()})}),
    "product-image": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk, "image_id": w.a.image.pk},
        crossed=lambda w: {"pk": w.b.product.pk, "image_id": w.a.image.pk},
        ops={"DELETE": Op(a_merchant, 204)}),
    "product-batches": Entry(
        kwargs=lambda w: {"pk": w.a.product.pk},
        ops={"GET": Op(a_merchant, 200),
             "POST": Op(a_merchant, 201, body=lambda w: {"harvested_at": today(-1), "plot": "西坡"})}),
    "trace-detail": Entry(kwargs=lambda w: {"code": w.a.batch.trace_code},
                          ops={"GET": Op(a_merchant, 200, public=EVERYONE, secrets=shop_secrets)}),
    "trace-qr": Entry(kwargs=lambda w: {"code": w.a.batch.trace_code},
                      ops={"GET": Op(a_merchant, 200, public=EVERYONE)}),
    # --- orders and payments ---------------------------------------------------------------
    "cart-item": Entry(
        kwargs=lambda w: {"item_id": w.a.cart_item.pk},
        ops={"PATCH": Op(a_consumer, 200, body=lambda w: {"quantity": 3}), "DELETE": Op(a_consumer, 204)}),
    "order-detail": Entry(kwargs=lambda w: {"order_id": w.order_paid}, ops={"GET": Op(a_consumer, 200)}),
    "order-cancel": Entry(kwargs=lambda w: {"order_id": w.order_pending}, ops={"POST": Op(a_consumer, 200)}),
    "order-pay": Entry(kwargs=lambda w: {"order_id": w.order_pending},
                       ops={"POST": Op(a_consumer, 201, body=lambda w: {})}),
    "merchant-order-detail": Entry(kwargs=lambda w: {"merchant_order_id": w.mo_paid.pk},
                                   ops={"GET": Op(a_merchant, 200)}),
    "merchant-order-confirm": Entry(kwargs=lambda w: {"merchant_order_id": w.mo_delivered.pk},
                                    ops={"POST": Op(a_consumer, 200)}),
    "review-create": Entry(kwargs=lambda w: {"merchant_order_id": w.mo_delivered.pk},
                           ops={"POST": Op(a_consumer, 201, body=lambda w: {"rating": 1, "text": "差评"})}),
    "dispute-create": Entry(
        kwargs=lambda w: {"merchant_order_id": w.mo_shippable.pk},
        ops={"POST": Op(a_consumer, 201, body=lambda w: {
            "reason": "damaged", "requested_refund": "1.00", "text": "坏了"})}),
    "dispute-detail": Entry(kwargs=lambda w: {"dispute_id": w.dispute_open.pk}, ops={"GET": Op(a_consumer, 200)}),
    "dispute-respond": Entry(
        kwargs=lambda w: {"dispute_id": w.dispute_open.pk},
        ops={"POST": Op(a_merchant, 200, body=lambda w: {"accept": True, "text": "同意退款"})}),
    "dispute-resolve": Entry(
        kwargs=lambda w: {"dispute_id": w.dispute_escalated.pk},
        ops={"POST": Op(a_operator, 200, body=lambda w: {"refund_amount": "1.00", "decision": "部分退款"})}),
    # --- live streams ----------------------------------------------------------------------------
    "stream-detail": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk}, hidden=lambda w: {"stream_id": w.stream_hidden.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE, secrets=lambda w: [w.a.stream.stream_key]),
             "PATCH": Op(a_merchant, 200, kwargs=lambda w: {"stream_id": w.stream_scheduled.pk},
                         body=lambda w: {"title": "改了标题"})}),
    "stream-start": Entry(kwargs=lambda w: {"stream_id": w.stream_scheduled.pk}, ops={"POST": Op(a_merchant, 200)}),
    "stream-end": Entry(kwargs=lambda w: {"stream_id": w.a.stream.pk}, ops={"POST": Op(a_merchant, 200)}),
    "stream-cancel": Entry(kwargs=lambda w: {"stream_id": w.stream_scheduled.pk}, ops={"POST": Op(a_merchant, 200)}),
    "stream-rotate-key": Entry(kwargs=lambda w: {"stream_id": w.stream_scheduled.pk},
                               ops={"POST": Op(a_merchant, 200)}),
    "stream-pin": Entry(kwargs=lambda w: {"stream_id": w.a.stream.pk},
                        ops={"POST": Op(a_merchant, 200, body=lambda w: {"product": w.a.product.pk})}),
    "stream-offers": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk}, hidden=lambda w: {"stream_id": w.stream_hidden.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE),
             "POST": Op(a_merchant, 201, body=lambda w: {"product": w.stream_product2.pk, "price": "8.80",
                                                         "quantity": 5, "duration_s": 600})}),
    "stream-offer-end": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk, "offer_id": w.a.offer.pk},
        crossed=lambda w: {"stream_id": w.b.stream.pk, "offer_id": w.a.offer.pk},
        ops={"POST": Op(a_merchant, 200)}),
    "stream-messages": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk}, hidden=lambda w: {"stream_id": w.stream_hidden.pk},
        ops={"GET": Op(a_merchant, 200, public=EVERYONE)}),
    "stream-message": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk, "message_id": w.a.message.pk},
        crossed=lambda w: {"stream_id": w.b.stream.pk, "message_id": w.a.message.pk},
        ops={"DELETE": Op(a_merchant, 204)}),
    "stream-mutes": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk},
        ops={"GET": Op(a_merchant, 200), "POST": Op(a_merchant, 201, body=lambda w: {"user": w.b.consumer.pk})}),
    "stream-mute": Entry(
        kwargs=lambda w: {"stream_id": w.a.stream.pk, "user_id": w.a.consumer.pk},
        crossed=lambda w: {"stream_id": w.b.stream.pk, "user_id": w.a.consumer.pk},
        ops={"DELETE": Op(a_merchant, 204)}),
    # --- deliveries ----------------------------------------------------------------------------------
    "merchant-order-ship": Entry(kwargs=lambda w: {"pk": w.mo_to_ship.pk},
                                 ops={"POST": Op(a_merchant, 201, body=lambda w: {"weight_kg": "2.00"})}),
    "shipment-detail": Entry(kwargs=lambda w: {"pk": w.shipment.pk}, ops={"GET": Op(a_consumer, 200)}),
    "shipment-events": Entry(kwargs=lambda w: {"pk": w.shipment.pk},
                             ops={"POST": Op(a_operator, 201, body=lambda w: {"status": "picked_up"})}),
    "dispatch-detail": Entry(kwargs=lambda w: {"pk": w.dispatch_planned.pk}, ops={"GET": Op(a_operator, 200)}),
    "dispatch-depart": Entry(kwargs=lambda w: {"pk": w.dispatch_planned.pk}, ops={"POST": Op(a_operator, 200)}),
    "dispatch-arrive": Entry(kwargs=lambda w: {"pk": w.dispatch_departed.pk}, ops={"POST": Op(a_operator, 200)}),
    "dispatch-cancel": Entry(kwargs=lambda w: {"pk": w.dispatch_planned.pk}, ops={"POST": Op(a_operator, 200)}),
    # --- notifications ----------------------------------------------------------------------------------
    "notification-read": Entry(kwargs=lambda w: {"pk": w.a.notification.pk}, ops={"POST": Op(a_consumer, 200)}),
    # --- ledger: the shop's money ---------------------------------------------------------------------------
    # A statement's path names a month, not an object, and the shop is always the caller's own: another
    # shop's owner reads its own month (200, with no figure of county A's shop), every other role is
    # refused as on the balance (403, anonymous 401). Text that is not YYYY-MM is no route: 404 for
    # everyone (core/converters.py).
    # figures: a shop's own, a county's for its operators
    "merchant-figures": Entry(kwargs=lambda w: {"merchant_id": w.a.shop.pk}, ops={"GET": Op(a_merchant, 200)}),
    "stream-figures": Entry(kwargs=lambda w: {"stream_id": w.a.stream.pk}, ops={"GET": Op(a_merchant, 200)}),
    "merchant-outlook": Entry(kwargs=lambda w: {"merchant_id": w.a.shop.pk}, ops={"GET": Op(a_merchant, 200)}),
    "county-figures": Entry(kwargs=lambda w: {"county_id": w.a.county.pk}, ops={"GET": Op(a_operator, 200)}),
    "ledger-statement": Entry(
        kwargs=lambda w: {"month": this_month()},
        ops={"GET": Op(a_merchant, 200, secrets=lambda w: ledger_secrets(w),
                       public={role: {"anonymous": 401, "merchant_b": 200}.get(role, 403) for role in ATTACKERS})}),
    # Staff name the shop in the query: another county's operator gets what a missing shop gets.
    "ledger-county-statement": Entry(kwargs=lambda w: {"month": this_month()},
                                     query=lambda w: {"merchant": w.a.shop.pk}, ops={"GET": Op(a_operator, 200)}),
    "ledger-admin-statement": Entry(kwargs=lambda w: {"month": this_month()},
                                    query=lambda w: {"merchant": w.a.shop.pk}, ops={"GET": Op(lambda w: w.admin, 200)}),
    # --- ledger: a cooperative's members and their shares ---------------------------------------------------
    "ledger-member": Entry(
        kwargs=lambda w: {"member_id": w.a.member.pk},
        ops={"GET": Op(a_merchant, 200), "PATCH": Op(a_merchant, 200, body=lambda w: {"name": "张大海"}),
             "DELETE": Op(a_merchant, 204, kwargs=lambda w: {"member_id": w.member_free.pk})}),
    "ledger-product-shares": Entry(
        kwargs=lambda w: {"product_id": w.a.product.pk},
        ops={"GET": Op(a_merchant, 200),
             "PUT": Op(a_merchant, 200, body=lambda w: {"shares": [{"member": w.a.member.pk, "percent": "60.00"},
                                                                   {"member": w.member_free.pk, "percent": "40.00"}]})}),
    "ledger-batch-shares": Entry(
        kwargs=lambda w: {"batch_id": w.honey_batch.pk},
        ops={"GET": Op(a_merchant, 200),
             "PUT": Op(a_merchant, 200, body=lambda w: {"shares": [{"member": w.member_free.pk, "percent": "100.00"}]})}),
    "ledger-line-batch": Entry(kwargs=lambda w: {"line_id": w.line.pk},
                               ops={"PUT": Op(a_merchant, 200, body=lambda w: {"batch": w.honey_batch.pk})}),
    # --- payouts -----------------------------------------------------------------------------------------------
    "merchant-payout-detail": Entry(kwargs=lambda w: {"payout_id": w.a.payout.pk}, ops={"GET": Op(a_merchant, 200)}),
    "county-payout-account-verify": Entry(kwargs=lambda w: {"account_id": w.a.payout_account.pk},
                                          ops={"POST": Op(a_operator, 200)}),
    "county-payout-account-reject": Entry(kwargs=lambda w: {"account_id": w.a.payout_account.pk},
                                          ops={"POST": Op(a_operator, 200, body=lambda w: {"reason": "户名不符"})}),
    # The payout provider's result, like the payment provider's notice: unauthenticated by design, its
    # signature is the check. An unsigned "paid" for county A's payout answers 400 to everyone and
    # changes nothing; an unknown provider name (configuration, not an id) answers 404.
    "payout-callback": Entry(
        kwargs=lambda w: {"provider": "sandbox"},
        ops={"POST": Op(lambda w: None, 400, public={role: 400 for role in ATTACKERS}, missing_status=404,
                        body=lambda w: {"notify_id": "ntf_forged", "out_biz_no": str(w.a.payout.request_id),
                                        "order_id": "forged", "status": "SUCCESS",
                                        "trans_amount": f"{w.a.payout.amount:.2f}", "fail_reason": ""})}),
    # The provider's notice is unauthenticated by design (its signature is the check): a forged,
    # unsigned notice for county A's payment answers 400 to everyone and changes nothing; provider
    # names are configuration, not ids, so an unknown one may answer 404.
    "payment-webhook": Entry(
        kwargs=lambda w: {"provider": "sandbox"},
        ops={"POST": Op(lambda w: None, 400, public={role: 400 for role in ATTACKERS}, missing_status=404,
                        body=lambda w: {"event_id": "evt_forged", "type": "payment.succeeded",
                                        "payment_id": w.payment.pk, "amount": str(w.payment.amount),
                                        "currency": "CNY"})}),
}

ROUTES = {route.name: route for route in object_routes()}


def _operations():
    for route in ROUTES.values():
        for method in route.methods:
            for role in ("owner", *ATTACKERS):
                yield pytest.param(route.name, method, role, id=f"{route.name}-{method}-{role}")


def _missing_variants(route: ApiRoute, kwargs: dict, query: dict) -> list[tuple[dict, dict]]:
    """(path, query) with all ids nonexistent; and when more than one names an object, each
    nonexistent on its own. A parameter that is no object (a month) keeps its value; a route whose
    path and query name no object has no variant (its answers are declared per role)."""
    def nope(name):
        return NONEXISTENT_CODE if route.converter(name) in ("str", "slug") else NONEXISTENT

    ids = [("path", name) for name in route.object_params if name in kwargs] + [("query", name) for name in query]
    if not ids:
        return []

    def variant(names):
        path = {**kwargs, **{name: nope(name) for where, name in names if where == "path"}}
        return path, {**query, **{name: NONEXISTENT for where, name in names if where == "query"}}

    variants = [variant(ids)]
    if len(ids) > 1:
        variants += [variant([one]) for one in ids]
    return variants


def _request(client, route: ApiRoute, method: str, kwargs: dict, op: Op, world: World, query: dict | None = None):
    body = op.body(world) if op.body else None
    call = getattr(client, method.lower())
    url = route.url(**kwargs)
    if query:
        url += "?" + urlencode(query)
    if method == "GET":
        return call(url)
    if op.multipart:
        return call(url, body or {}, format="multipart")
    return call(url, body, format="json") if body is not None else call(url)


def _summary(response) -> tuple[int, object]:
    content_type = response.get("Content-Type", "")
    body = response.json() if content_type.startswith("application/json") else response.content[:200]
    return response.status_code, body


def test_every_object_route_has_an_entry():
    missing = sorted(set(ROUTES) - set(TABLE))
    assert not missing, f"object routes with no entry in the authorization table: {missing}"
    stale = sorted(set(TABLE) - set(ROUTES))
    assert not stale, f"entries for routes that no longer exist: {stale}"
    undeclared = sorted(f"{name} {method}" for name, route in ROUTES.items() if name in TABLE
                        for method in route.methods if method not in TABLE[name].ops)
    assert not undeclared, f"methods with no entry: {undeclared}"


@pytest.mark.parametrize(("route_name", "method", "role"), list(_operations()))
def test_foreign_object_answers_like_a_missing_one(route_name, method, role, world, clients, db):
    route = ROUTES[route_name]
    entry = TABLE.get(route_name)
    assert entry is not None, f"{route_name} ({route.pattern}) has no entry in the authorization table"
    op = entry.ops.get(method)
    assert op is not None, f"{route_name} {method} has no entry in the authorization table"
    target = (op.kwargs or entry.kwargs)(world)
    query = entry.query(world) if entry.query else {}

    if role == "owner":
        # The control: the table points at a real object its owner can act on.
        owner = op.owner(world)
        response = _request(client_for(owner), route, method, target, op, world, query)
        assert response.status_code == op.owner_status, (route_name, method, _summary(response))
        if op.absent:
            assert op.absent(world) <= _result_ids(response.json()), "the owner sees what attackers may not"
        return
    if role not in clients:
        pytest.skip(f"no {role} in this build")
    client = clients[role]

    before = snapshot()
    variants = _missing_variants(route, target, query)
    if not variants:
        # Nothing in the path or the query names an object (a month of the caller's own shop): what
        # each role gets on it is declared, and what the owner's answer shows must not appear.
        assert role in op.public, f"{route_name} {method} names no object: declare what {role} gets in public"
    missing = [_summary(_request(client, route, method, kwargs, op, world, missing_query))
               for kwargs, missing_query in variants]
    foreign = _summary(_request(client, route, method, target, op, world, query))
    others = {}
    if entry.hidden:
        others["hidden"] = _summary(_request(client, route, method, entry.hidden(world), op, world, query))
    crossed = None
    if entry.crossed:
        crossed_kwargs = entry.crossed(world)
        child = route.converters[-1]
        crossed = (_summary(_request(client, route, method, crossed_kwargs, op, world, query)),
                   _summary(_request(client, route, method, {**crossed_kwargs, child: NONEXISTENT}, op, world,
                                     query)))
    after = snapshot()
    requests = len(missing) + 1 + len(others) + (2 if crossed else 0)

    if missing:
        expected_missing = op.missing_status or (401 if role == "anonymous" and missing[0][0] == 401 else 404)
        assert {status for status, _ in missing} == {expected_missing}, (
            f"{route_name} {method} as {role}: a nonexistent object answered {missing}, expected {expected_missing}")
        assert all(m == missing[0] for m in missing), f"{route_name} {method} as {role}: {missing}"
    if crossed:
        assert crossed[0] == crossed[1], (
            f"{route_name} {method} as {role}: B's parent with A's child answered {crossed[0]}, "
            f"with a missing child {crossed[1]}")
    for label, answer in others.items():
        assert answer == missing[0], (
            f"{route_name} {method} as {role}: the {label} object answered {answer}, a missing one {missing[0]}")
    if role in op.public:
        assert foreign[0] == op.public[role], f"{route_name} {method} as {role}: {foreign}"
        allowed = op.changes
        for secret in (op.secrets(world) if op.secrets else []):
            assert secret not in str(foreign[1]), f"{route_name} {method} as {role} shows {secret!r}: {foreign[1]}"
        if op.absent:
            shown = _result_ids(foreign[1]) & op.absent(world)
            assert not shown, f"{route_name} {method} as {role} lists {shown}"

    else:
        assert foreign == missing[0], (
            f"{route_name} {method} as {role}: county A's object answered {foreign}, a missing one {missing[0]}")
        allowed = frozenset()
    changed = {table: rows for table, rows in snapshot_diff(before, after).items() if table not in allowed}
    assert not changed, f"{route_name} {method} as {role} changed the database: {changed}"

    FIGURES["authz"]["checks"] += 1
    FIGURES["authz"]["requests"] += requests
    FIGURES["authz"]["snapshots"] += 1
    FIGURE_SETS["authz_routes"].add(route_name)
    FIGURE_SETS["authz_roles"].add(role)
    if (route_name, method) not in FIGURE_SETS["authz_operations"]:
        FIGURE_SETS["authz_operations"].add((route_name, method))
        FIGURES["authz"]["operations"] += 1


# --- lists ---------------------------------------------------------------------------------------


def _result_ids(body) -> set:
    return {row["id"] for row in body.get("results", [])} if isinstance(body, dict) else set()


def _balance_of(figures: dict) -> set:
    return {("pending", figures["pending"]), ("available", figures["available"])}


def _balance_ids(body) -> set:
    return {(name, body.get(name)) for name in ("pending", "available")} if isinstance(body, dict) else set()


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


@dataclass
class ListSpec:
    """A list endpoint whose rows the contract scopes (or that is public, with hidden rows)."""

    foreign: Callable[[World], set]  # county A's rows that no attacker may see
    owner: Callable[[World], object] | None  # who does see them (the control); None: nobody (public lists)
    own: dict[str, Callable[[World], set]] = field(default_factory=dict)  # rows an attacker must see
    public: Callable[[World], set] | None = None  # rows everyone sees
    query: str | Callable[[World], str] = ""
    ids: Callable[[dict], set] = _result_ids
    secrets: Callable[[World], list[str]] | None = None
    route: str | None = None  # the route, when the entry's name is not it (a second query of one list)


LISTS: dict[str, ListSpec] = {
    "me": ListSpec(foreign=lambda w: {w.a.consumer.pk},
                   owner=a_consumer, ids=lambda body: {body.get("id")},
                   own={"consumer_b": lambda w: {w.b.consumer.pk}, "merchant_b": lambda w: {w.b.merchant_user.pk},
                        "operator_b": lambda w: {w.b.operator.pk}}),
    "merchant-list": ListSpec(foreign=lambda w: {w.shop_pending.pk, w.shop_rejected.pk}, owner=None,
                              public=lambda w: {w.a.shop.pk, w.b.shop.pk},
                              secrets=lambda w: [w.a.shop.contact_phone, w.b.shop.contact_phone]),
    "merchant-review-queue": ListSpec(foreign=lambda w: {w.shop_pending.pk}, owner=a_operator,
                                      own={"operator_b": lambda w: {w.b.shop_pending.pk}}),
    "product-list": ListSpec(foreign=lambda w: {w.product_pending.pk, w.product_delisted.pk}, owner=None,
                             public=lambda w: {w.a.product.pk, w.b.product.pk}),
    "product-list-mine": ListSpec(query="?mine=1",
                                  foreign=lambda w: {w.a.product.pk, w.product_pending.pk, w.product_delisted.pk},
                                  owner=a_merchant,
                                  own={"merchant_b": lambda w: {w.b.product.pk, w.b.product_pending.pk}}),
    "product-review-queue": ListSpec(foreign=lambda w: {w.product_pending.pk}, owner=a_operator,
                                     own={"operator_b": lambda w: {w.b.product_pending.pk}}),
    "cart": ListSpec(foreign=lambda w: {w.a.cart_item.pk}, owner=a_consumer,
                     ids=lambda body: {item["id"] for item in body.get("items", [])},
                     own={"consumer_b": lambda w: {w.b.cart_item.pk}}),
    "order-list": ListSpec(foreign=lambda w: {w.order_paid, w.order_pending}, owner=a_consumer,
                           own={"consumer_b": lambda w: {w.b.order}}),
    "merchant-order-list": ListSpec(foreign=lambda w: {w.mo_paid.pk, w.mo_delivered.pk}, owner=a_merchant,
                                    own={"merchant_b": lambda w: {w.b.merchant_order.pk}}),
    "dispute-list": ListSpec(foreign=lambda w: {w.dispute_open.pk, w.dispute_escalated.pk}, owner=a_consumer,
                             own={role: (lambda w: {w.b.dispute.pk})
                                  for role in ("consumer_b", "merchant_b", "operator_b")}),
    # adoptions: open ones for everyone; the adopter's own subscriptions
    "adoption-list": ListSpec(foreign=lambda w: {w.adoption_closed.pk}, owner=None,
                              public=lambda w: {w.a.adoption.pk, w.b.adoption.pk}),
    "adoption-subscription-list": ListSpec(foreign=lambda w: {w.a.subscription.pk}, owner=a_consumer,
                                           own={"consumer_b": lambda w: {w.b.subscription.pk}}),
    # live streams
    "stream-list": ListSpec(foreign=lambda w: {w.stream_hidden.pk}, owner=None,
                            public=lambda w: {w.a.stream.pk, w.b.stream.pk},
                            secrets=lambda w: [w.a.stream.stream_key, w.b.stream.stream_key]),
    "stream-list-mine": ListSpec(query="?mine=1", foreign=lambda w: {w.a.stream.pk, w.stream_scheduled.pk},
                                 owner=a_merchant, own={"merchant_b": lambda w: {w.b.stream.pk}}),
    # deliveries: an operator's county (a courier lists its county's runs, not the work queue)
    "shipment-queue": ListSpec(foreign=lambda w: w.shipments_a, owner=a_operator,
                               own={"operator_b": lambda w: {w.b.shipment.pk}}),
    "dispatch-list": ListSpec(foreign=lambda w: {w.dispatch_planned.pk, w.dispatch_departed.pk}, owner=a_operator),
    "dispatch-suggestions": ListSpec(
        foreign=lambda w: {w.shipment_waiting.pk}, owner=a_operator,
        ids=lambda body: {s for group in body for s in group["shipments"]} if isinstance(body, list) else set()),
    "courier-list": ListSpec(foreign=lambda w: {w.a.courier.courier.pk}, owner=a_operator,
                             own={"operator_b": lambda w: {w.b.courier.courier.pk}}),
    "vehicle-list": ListSpec(foreign=lambda w: {w.a.vehicle.pk}, owner=a_operator,
                             own={"operator_b": lambda w: {w.b.vehicle.pk}}),
    # insights: what is kept of the caller, never of another buyer
    "my-interactions": ListSpec(foreign=lambda w: {w.a.interaction.pk}, owner=a_consumer,
                                own={"consumer_b": lambda w: {w.b.interaction.pk}}),
    # notifications: the reader's own
    "notification-list": ListSpec(foreign=lambda w: w.notifications_a, owner=a_consumer,
                                  own={"consumer_b": lambda w: {w.b.notification.pk}}),
    # ledger: the caller's own shop (its money, its entries, its members); a county's totals (an
    # operator's own county, also when it names another), the platform's (admins)
    "ledger-balance": ListSpec(foreign=lambda w: _balance_of(w.ledger_a), owner=a_merchant, ids=_balance_ids,
                               own={"merchant_b": lambda w: _balance_of(w.ledger_b)}),
    "ledger-entries": ListSpec(foreign=lambda w: w.ledger_a["postings"], owner=a_merchant,
                               ids=lambda body: {row["posting"] for row in body.get("results", [])}
                               if isinstance(body, dict) else set(),
                               own={"merchant_b": lambda w: w.ledger_b["postings"]}),
    "ledger-members": ListSpec(foreign=lambda w: {w.a.member.pk, w.member_free.pk}, owner=a_merchant,
                               own={"merchant_b": lambda w: {w.b.member.pk}}, secrets=member_secrets),
    "ledger-county-totals": ListSpec(query=lambda w: f"month={this_month()}", foreign=lambda w: {w.a.county.pk},
                                     owner=a_operator, ids=lambda body: {body.get("county")},
                                     own={"operator_b": lambda w: {w.b.county.pk}}),
    "ledger-county-totals-of-a": ListSpec(route="ledger-county-totals",
                                          query=lambda w: f"month={this_month()}&county={w.a.county.pk}",
                                          foreign=lambda w: {w.a.county.pk}, owner=a_operator,
                                          ids=lambda body: {body.get("county")}),
    # payouts: the shop's own account and payouts; the accounts of an operator's county
    "merchant-payout-account": ListSpec(foreign=lambda w: {w.a.payout_account.pk}, owner=a_merchant,
                                        ids=lambda body: {body.get("id")},
                                        own={"merchant_b": lambda w: {w.b.payout_account.pk}},
                                        secrets=lambda w: [*PAYOUT_ACCOUNTS["A"], *PAYOUT_ACCOUNTS["B"][:1]]),
    "merchant-payout-list": ListSpec(foreign=lambda w: {w.a.payout.pk}, owner=a_merchant,
                                     own={"merchant_b": lambda w: {w.b.payout.pk}},
                                     secrets=lambda w: [*PAYOUT_ACCOUNTS["A"], *PAYOUT_ACCOUNTS["B"][:1]]),
    "county-payout-account-list": ListSpec(foreign=lambda w: {w.a.payout_account.pk, w.payout_account_old.pk},
                                           owner=a_operator, own={"operator_b": lambda w: {w.b.payout_account.pk}},
                                           secrets=lambda w: [*PAYOUT_ACCOUNTS["A"], *PAYOUT_ACCOUNTS["B"][:1]]),
    "ledger-platform-totals": ListSpec(query=lambda w: f"month={this_month()}",
                                       foreign=lambda w: {w.a.county.pk, w.b.county.pk}, owner=lambda w: w.admin,
                                       ids=lambda body: {row["county"] for row in body.get("counties", [])}
                                       if isinstance(body, dict) else set()),
}
# Lists with no private rows: the same answer for everyone.
UNSCOPED = {
    "health": "service health",
    "health-live": "the process liveness probe",
    "health-ready": "the readiness probe (database, Redis)",
    "schema": "the OpenAPI document",
    "docs": "the API's documentation page",
    "redoc": "the API's documentation page",
    "region-list": "the public region tree",
    "category-list": "the public category tree",
    "hub-list": "the public logistics network",
    "notification-preferences": "the caller's own preferences (one object, no id)",
    "for-you-products": "public products ranked for the caller (its own recommendations or the cold start)",
    "for-you-streams": "public live and upcoming streams ranked for the caller",
    "my-insights": "the caller's own interest profile and what is kept of it (one object, no id)",
}
LIST_ROUTES = {route.name: route for route in list_routes()}


def _route_of(name: str) -> str:
    return LISTS[name].route or name.removesuffix("-mine") if name in LISTS else name.removesuffix("-mine")


def _list_params():
    for name, spec in LISTS.items():
        for role in (("owner",) if spec.owner else ()) + ATTACKERS:
            yield pytest.param(name, role, id=f"{name}-{role}")


def _list_url(route: ApiRoute, spec: ListSpec, world: World) -> str:
    query = spec.query(world) if callable(spec.query) else spec.query
    return route.url() + "?" + "&".join(filter(None, [query.lstrip("?"), "page_size=100"]))


def test_every_list_route_is_declared():
    declared = {_route_of(name) for name in LISTS} | set(UNSCOPED)
    missing = sorted(set(LIST_ROUTES) - declared)
    assert not missing, f"list routes with no entry in LISTS or UNSCOPED: {missing}"
    stale = sorted(declared - set(LIST_ROUTES))
    assert not stale, f"entries for list routes that no longer exist: {stale}"


@pytest.mark.parametrize(("name", "role"), list(_list_params()))
def test_lists_show_only_the_callers_rows(name, role, world, clients, db):
    spec = LISTS[name]
    route = LIST_ROUTES[_route_of(name)]
    if role == "owner":
        response = client_for(spec.owner(world)).get(_list_url(route, spec, world))
        assert response.status_code == 200, response.content
        seen = spec.ids(response.json())
        assert spec.foreign(world) <= seen, f"{name}: the owner misses {spec.foreign(world) - seen}"
        return
    if role not in clients:
        pytest.skip(f"no {role} in this build")
    response = clients[role].get(_list_url(route, spec, world))
    assert response.status_code in (200, 401, 403, 404), (name, role, response.status_code)
    seen = spec.ids(response.json()) if response.status_code == 200 else set()
    leaked = seen & spec.foreign(world)
    assert not leaked, f"{name} as {role} lists county A's rows {leaked}"
    if role in spec.own:
        assert spec.own[role](world) <= seen, f"{name} as {role} misses its own rows {spec.own[role](world) - seen}"
    if spec.public:
        assert spec.public(world) <= seen, f"{name} as {role} misses public rows {spec.public(world) - seen}"
    for secret in (spec.secrets(world) if spec.secrets else []):
        assert secret not in response.content.decode(), f"{name} as {role} shows {secret!r}"
    FIGURES["lists"]["checks"] += 1
    if name not in FIGURE_SETS["lists"]:
        FIGURE_SETS["lists"].add(name)
        FIGURES["lists"]["endpoints"] += 1
