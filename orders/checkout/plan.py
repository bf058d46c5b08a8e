"""Checkout: one order, one merchant order per shop, stock reserved in the same transaction.

A checkout is planned, then written. ``checkout_plan`` reads what it decides on (the village, the
products with their shops, the offers), applies every rule and prices the order; ``checkout_write``
writes it. ``order_create`` does both. The API renders its answer from the plan between the two, so
an Idempotency-Key's answer is written by the same statement as the order (core.idempotency).

On PostgreSQL the plan is one read (which also allocates the new rows' ids) and the write is
BEGIN, one statement for the buyer's unpaid holds and offer counters, the order, its merchant orders and lines, the bought
cart items and the answer, then the contended rows, then COMMIT (orders/checkout/sql.py).
Elsewhere (SQLite, ``make run``) the same plan is written through the ORM.

Lock order, everywhere in the app (docs/orders-payments.md): order → merchant orders (by pk) →
shipments → payments → the buyer's unpaid holds (by scope) → per-buyer offer counters (by offer pk)
→ product stock (by pk) → offers (by pk). The contended rows (stock, offers) are
taken last, each by one conditional UPDATE just before COMMIT, so the hot row is held for as
little time as possible (docs/benchmarks.md, "Orders: checkout").
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.stock import product_stock_take
from core.errors import ValidationFailed
from livestream import events as room
from livestream.models import Offer, Stream
from merchants.models import Merchant
from regions.models import Region

from ..commission import RateBook, cents
from ..models import CartItem, MerchantOrder, Order, OrderLine
from ..services.errors import EmptyCart, OfferNotLive, OutOfStock, OverBuyerLimit, SoldOut
from ..services.fees import delivery_fee
from ..services.holds import Hold, check_first_holds, holds_for, pending_limit_error
from . import sql as checkout_sql
from .gate import offer_gate_close

TWO = Decimal("0.01")


@dataclass(frozen=True)
class CheckoutLine:
    product_id: int
    quantity: int
    offer_id: int | None = None


@dataclass(frozen=True)
class CheckoutAddress:
    village_id: int
    detail: str
    recipient: str
    phone: str


@dataclass
class CheckoutPlan:
    """An order ready to write: unsaved rows (with ids on PostgreSQL) and what to reserve."""

    buyer: object
    order: Order
    merchant_orders: list[MerchantOrder]
    lines: list[OrderLine]
    holds: list[Hold]  # what the buyer will hold unpaid, by scope
    counters: list[tuple[int, int, int | None]]  # (offer id, units, per-buyer limit), by offer id
    stock_takes: list[tuple[int, int]]  # (product id, units), by product id
    offer_takes: list[tuple[int, int]]  # (offer id, units), by offer id
    offer_streams: dict[int, int]
    cart_item_ids: list[int] = field(default_factory=list)
    left_after: dict[int, int] = field(default_factory=dict)


def buyer_display_name(user) -> str:
    return f"{user.last_name}{user.first_name}".strip() or user.username


def merge_lines(lines: list[CheckoutLine]) -> list[CheckoutLine]:
    """Same product and offer twice → one line; refuses empty, too many and too large lines."""
    if not lines:
        raise EmptyCart(_("An order needs at least one item."), fields={"items": [_("Add at least one item.")]})
    merged: dict[tuple, int] = defaultdict(int)
    for line in lines:
        if line.quantity <= 0:
            raise ValidationFailed(fields={"items": [_("Quantities must be at least 1.")]})
        merged[(line.product_id, line.offer_id)] += line.quantity
    if len(merged) > settings.ORDERS_MAX_LINES:
        raise ValidationFailed(fields={"items": [_("At most %(n)d different items per order.")
                                                 % {"n": settings.ORDERS_MAX_LINES}]})
    for quantity in merged.values():
        if quantity > settings.ORDERS_MAX_LINE_QUANTITY:
            raise ValidationFailed(fields={"items": [_("At most %(n)d units of one item per order.")
                                                     % {"n": settings.ORDERS_MAX_LINE_QUANTITY}]})
    return [CheckoutLine(product_id=p, offer_id=o, quantity=q) for (p, o), q in merged.items()]


def cart_lines(*, buyer) -> tuple[list[CheckoutLine], list[int]]:
    items = list(CartItem.objects.filter(cart__user=buyer).values_list("pk", "product_id", "offer_id", "quantity"))
    if not items:
        raise EmptyCart(fields={"from_cart": [_("Your cart is empty.")]})
    return [CheckoutLine(product_id=p, offer_id=o, quantity=q) for _pk, p, o, q in items], [i[0] for i in items]


# --- reading what the checkout decides on ---------------------------------------------------------

def _read_sql(lines, address, stream_id, now) -> dict:
    return checkout_sql.snapshot_read(
        village_id=address.village_id, product_ids=sorted({ln.product_id for ln in lines}),
        offer_ids=sorted({ln.offer_id for ln in lines if ln.offer_id}), stream_id=stream_id, lines=len(lines), now=now)


def _read_orm(lines, address, stream_id, now) -> dict:
    """The same snapshot through the ORM (any database); no ids are allocated."""

    village = (Region.objects.filter(pk=address.village_id, level=Region.Level.VILLAGE)
               .values("id", "name", "county_id", "county__province").first())
    if village is not None:
        village["province"] = village.pop("county__province") or ""
    products = [{"id": p.pk, "category_id": p.category_id,
                 "title": p.title, "unit": p.unit, "price": p.price, "claims": p.claims, "stock": p.stock,
                 "status": p.status, "merchant_id": p.merchant_id, "merchant_status": p.merchant.status,
                 "shop_name": p.merchant.shop_name, "merchant_county_id": p.merchant.county_id,
                 "merchant_province": p.merchant.county.province or ""}
                for p in Product.objects.select_related("merchant__county")
                .filter(pk__in={line.product_id for line in lines})]
    offer_ids = {line.offer_id for line in lines if line.offer_id}
    offers = [{"id": o.pk, "product_id": o.product_id, "stream_id": o.stream_id, "price": o.price,
               "per_buyer_limit": o.per_buyer_limit, "remaining": o.remaining, "live": o.status == Offer.Status.LIVE and o.ends_at > now}
              for o in Offer.objects.filter(pk__in=offer_ids)] if offer_ids else []
    stream_merchant_id = (Stream.objects.filter(pk=stream_id).values_list("merchant_id", flat=True).first()
                          if stream_id else None)
    return {"village": village, "products": products, "offers": offers, "stream_merchant_id": stream_merchant_id,
            "order_id": None, "merchant_order_ids": [None] * len(lines), "line_ids": [None] * len(lines)}


def _check(lines, snapshot, stream_id):
    """Every rule on what was read; returns (village, products by id, offers by id, stream id)."""
    village = snapshot["village"]
    if village is None:
        raise ValidationFailed(fields={"address": {"village": [_("No such village.")]}})
    products = {p["id"]: p for p in snapshot["products"]}
    offers = {o["id"]: o for o in snapshot["offers"]}
    for line in lines:
        product = products.get(line.product_id)
        if (product is None or product["status"] != Product.Status.LISTED
                or product["merchant_status"] != Merchant.Status.APPROVED):
            raise ValidationFailed(_("Product %(id)s is not for sale.") % {"id": line.product_id},
                                   code="product_not_listed", fields={"items": [_("This product is not for sale.")]})
        if line.offer_id:
            offer = offers.get(line.offer_id)
            if offer is None or offer["product_id"] != line.product_id:
                raise ValidationFailed(fields={"items": [_("This offer is not for that product.")]})
            if stream_id and offer["stream_id"] != stream_id:
                raise ValidationFailed(fields={"stream": [_("This offer belongs to another live stream.")]})
            if not offer["live"]:
                raise OfferNotLive()
    if stream_id and snapshot["stream_merchant_id"] is None:
        raise ValidationFailed(fields={"stream": [_("No such live stream.")]})
    if stream_id and not offers and all(p["merchant_id"] != snapshot["stream_merchant_id"] for p in products.values()):
        # The stream's shop sells none of it: the order is not the stream's (docs/live-room.md). Its lines
        # of other shops never count for a stream anyway (sale.made, the stream's totals).
        stream_id = None
    if not stream_id and offers:
        streams = {o["stream_id"] for o in offers.values()}
        stream_id = streams.pop() if len(streams) == 1 else None
    return village, products, offers, stream_id


# --- planning ----------------------------------------------------------------------------------------

def checkout_plan(*, buyer, lines: list[CheckoutLine], address: CheckoutAddress, stream_id: int | None = None,
                  from_cart: bool = False) -> CheckoutPlan:
    """Read, check and price an order; writes nothing. Raises the checkout's refusals."""
    cart_item_ids: list[int] = []
    if from_cart:
        lines, cart_item_ids = cart_lines(buyer=buyer)
    lines = merge_lines(lines)
    now = timezone.now()
    read = _read_sql if connection.vendor == "postgresql" else _read_orm
    snapshot = read(lines, address, stream_id, now)
    village, products, offers, stream_id = _check(lines, snapshot, stream_id)

    by_merchant: dict[int, list[CheckoutLine]] = defaultdict(list)
    for line in lines:
        by_merchant[products[line.product_id]["merchant_id"]].append(line)
    # Flash-offer units are the scarce ones: an order holding some has the shorter payment window.
    window = settings.ORDERS_OFFER_PAYMENT_WINDOW if offers else settings.ORDERS_PAYMENT_WINDOW
    order = Order(pk=snapshot["order_id"], buyer=buyer, village_id=village["id"], address_detail=address.detail,
                  recipient=address.recipient, recipient_phone=address.phone, stream_id=stream_id,
                  payment_deadline=now + window, created_at=now)
    order.village = Region(pk=village["id"], name=village["name"], county_id=village["county_id"])
    mo_ids, line_ids = iter(snapshot["merchant_order_ids"]), iter(snapshot["line_ids"])
    rate_book = RateBook(at=now)
    merchant_orders, all_rows = [], []
    for merchant_id in sorted(by_merchant):
        first = products[by_merchant[merchant_id][0].product_id]
        mo = MerchantOrder(pk=next(mo_ids), order=order,
                           merchant=Merchant(pk=merchant_id, shop_name=first["shop_name"],
                                             county_id=first["merchant_county_id"]))
        rows = []
        for line in by_merchant[merchant_id]:
            product = products[line.product_id]
            price = offers[line.offer_id]["price"] if line.offer_id else product["price"]
            rates = rate_book.rates(category_id=product["category_id"], county_id=first["merchant_county_id"])
            rows.append(OrderLine(pk=next(line_ids), merchant_order=mo, product_id=product["id"],
                                  offer_id=line.offer_id, title=product["title"], unit=product["unit"],
                                  unit_price=price, quantity=line.quantity,
                                  line_total=(price * line.quantity).quantize(TWO), claims=list(product["claims"]),
                                  commission_rate=rates.commission, service_fee_rate=rates.service_fee))
        mo.items_total = sum((r.line_total for r in rows), Decimal("0.00"))
        mo.commission = sum((cents(r.line_total * r.commission_rate) for r in rows), Decimal("0.00"))
        mo.service_fee = sum((cents(r.line_total * r.service_fee_rate) for r in rows), Decimal("0.00"))
        mo.delivery_fee = delivery_fee(merchant_county_id=first["merchant_county_id"],
                                       merchant_province=first["merchant_province"],
                                       to_county_id=village["county_id"], to_province=village["province"],
                                       items_total=mo.items_total)
        mo.total = mo.items_total + mo.delivery_fee
        mo._prefetched_objects_cache = {"lines": rows}
        MerchantOrder.shipment.related.set_cached_value(mo, None)  # a new one has no parcel: render it without a query
        merchant_orders.append(mo)
        all_rows.extend(rows)
    order.items_total = sum((mo.items_total for mo in merchant_orders), Decimal("0.00"))
    order.delivery_total = sum((mo.delivery_fee for mo in merchant_orders), Decimal("0.00"))
    order.total = order.items_total + order.delivery_total
    order._prefetched_objects_cache = {"merchant_orders": merchant_orders, "payments": []}
    offer_lines = sorted((ln for ln in lines if ln.offer_id), key=lambda ln: ln.offer_id)
    return CheckoutPlan(
        buyer=buyer, order=order, merchant_orders=merchant_orders, lines=all_rows,
        holds=holds_for(lines, products, offers),
        counters=[(ln.offer_id, ln.quantity, offers[ln.offer_id]["per_buyer_limit"]) for ln in offer_lines],
        stock_takes=sorted((ln.product_id, ln.quantity) for ln in lines if not ln.offer_id),
        offer_takes=[(ln.offer_id, ln.quantity) for ln in offer_lines],
        offer_streams={ln.offer_id: offers[ln.offer_id]["stream_id"] for ln in offer_lines},
        cart_item_ids=cart_item_ids)


# --- writing -----------------------------------------------------------------------------------------

def _over_limit(limit):
    return OverBuyerLimit(_("You may buy at most %(n)d of this offer.") % {"n": limit},
                          fields={"items": [_("Over the per-buyer limit.")]})


class _PendingLimit(Exception):
    """A hold refused inside the write; turned into the 409 once the write is undone (its numbers are
    read afresh then)."""


def _check_first_purchases(plan: CheckoutPlan) -> None:
    check_first_holds(plan.holds, buyer_id=plan.buyer.pk)
    for _offer_id, quantity, limit in plan.counters:
        if limit is not None and quantity > limit:  # a first purchase the counter's upsert would not refuse
            raise _over_limit(limit)


def _write_sql(plan: CheckoutPlan, answer) -> None:
    _check_first_purchases(plan)
    refused = checkout_sql.order_rows_write(
        order=plan.order, merchant_orders=plan.merchant_orders, lines=plan.lines, holds=plan.holds,
        counters=[(offer_id, quantity) for offer_id, quantity, _limit in plan.counters],
        cart_item_ids=plan.cart_item_ids, answer=answer)
    if refused == "pending_limit":
        raise _PendingLimit()
    if refused:
        raise _over_limit(min(limit for _o, _q, limit in plan.counters if limit is not None))
    for obj in [plan.order, *plan.merchant_orders, *plan.lines]:
        obj._state.adding, obj._state.db = False, connection.alias


def _write_orm(plan: CheckoutPlan, answer_for) -> None:
    _check_first_purchases(plan)
    if not checkout_sql.pending_holds_reserve(buyer_id=plan.buyer.pk, holds=plan.holds):
        raise _PendingLimit()
    for offer_id, quantity, limit in plan.counters:
        if not checkout_sql.buyer_units_reserve(offer_id=offer_id, buyer_id=plan.buyer.pk, quantity=quantity,
                                                limit=limit):
            raise _over_limit(limit)
    plan.order.save(force_insert=True)
    MerchantOrder.objects.bulk_create(plan.merchant_orders)
    OrderLine.objects.bulk_create(plan.lines)
    if plan.cart_item_ids:
        CartItem.objects.filter(pk__in=plan.cart_item_ids).delete()
    answer = answer_for(plan.order) if answer_for else None
    if answer is not None:
        answer.store()


def _write_with_offer_sql(plan: CheckoutPlan, answer) -> None:
    """The hot path of a live sale: an order whose only contended row is one flash offer, written
    with the offer's units in one statement (checkout_sql.order_write_with_offer)."""
    _check_first_purchases(plan)
    (offer_id, quantity), = plan.offer_takes
    write = functools.partial(
        checkout_sql.order_write_with_offer, order=plan.order, merchant_orders=plan.merchant_orders,
        lines=plan.lines, holds=plan.holds, counters=[(o, n) for o, n, _limit in plan.counters],
        cart_item_ids=plan.cart_item_ids,
        answer=answer, offer_id=offer_id, quantity=quantity, now=plan.order.created_at)
    try:
        if connection.in_atomic_block:  # the caller's transaction must survive a refusal
            with transaction.atomic():
                left = write()
        else:  # autocommit: the statement is the whole transaction
            left = write()
    except checkout_sql.Refused as refused:
        if refused.code == "pending_limit":
            raise pending_limit_error(buyer_id=plan.buyer.pk, holds=plan.holds) from None
        if refused.code == "over_buyer_limit":
            raise _over_limit(min(limit for _o, _q, limit in plan.counters if limit is not None)) from None
        raise SoldOut(fields={"items": [_("Sold out.")]}) from None
    plan.left_after[offer_id] = left
    for obj in [plan.order, *plan.merchant_orders, *plan.lines]:
        obj._state.adding, obj._state.db = False, connection.alias


def checkout_write(*, plan: CheckoutPlan, answer_for=None) -> Order:
    """Write a planned order and reserve its units; the room hears of the offers' units after COMMIT
    (of the sale itself once it is paid: ``sale.made`` is sent by ``order_mark_paid``).

    ``answer_for(order)`` (optional) is called once the order has its ids, before the contended
    rows are taken, and returns what to store in the same transaction (a ``core.idempotency.Answer``
    or None). On PostgreSQL the ids come with the plan, so the answer is written by the same
    statement as the order. Runs inside the caller's transaction when there is one."""
    if connection.vendor == "postgresql" and plan.order.pk is not None and len(plan.offer_takes) == 1 \
            and not plan.stock_takes:
        _write_with_offer_sql(plan, answer_for(plan.order) if answer_for else None)
        _publish_sale(plan)  # on commit: at once in autocommit
        return plan.order
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql" and plan.order.pk is not None:
                _write_sql(plan, answer_for(plan.order) if answer_for else None)
            else:
                _write_orm(plan, answer_for)
            # The contended rows last, each one conditional UPDATE, in a fixed order.
            for product_id, quantity in plan.stock_takes:
                if not product_stock_take(product_id=product_id, quantity=quantity):
                    title = next(ln.title for ln in plan.lines if ln.product_id == product_id and not ln.offer_id)
                    raise OutOfStock(_("Only few units of “%(title)s” are left.") % {"title": title},
                                     fields={"items": [_("Not enough stock.")]})
            now = plan.order.created_at
            for offer_id, quantity in plan.offer_takes:
                left = checkout_sql.offer_units_take(offer_id=offer_id, quantity=quantity, now=now)
                if left is None:
                    raise SoldOut(fields={"items": [_("Sold out.")]})
                plan.left_after[offer_id] = left
            _publish_sale(plan)
    except _PendingLimit:
        raise pending_limit_error(buyer_id=plan.buyer.pk, holds=plan.holds) from None
    return plan.order


def order_create(*, buyer, lines: list[CheckoutLine], address: CheckoutAddress, stream_id: int | None = None,
                 from_cart: bool = False) -> Order:
    """Create and reserve an order. Runs inside the caller's transaction when there is one."""
    plan = checkout_plan(buyer=buyer, lines=lines, address=address, stream_id=stream_id, from_cart=from_cart)
    return checkout_write(plan=plan)


def _publish_sale(plan: CheckoutPlan) -> None:
    """The offers' new counts for their rooms, sent only if the checkout commits (livestream.events
    uses on_commit). ``sale.made`` waits for the payment (lifecycle.order_mark_paid)."""


    for offer_id, left in plan.left_after.items():
        stream_id = plan.offer_streams[offer_id]
        room.offer_updated(stream_id=stream_id, offer_id=offer_id, remaining=left)
        if left == 0:
            room.offer_ended(stream_id=stream_id, offer_id=offer_id, remaining=0, reason=Offer.EndReason.SOLD_OUT)
            transaction.on_commit(lambda offer_id=offer_id: offer_gate_close(offer_id=offer_id))
