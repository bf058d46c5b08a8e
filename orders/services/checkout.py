"""Checkout: one order, one merchant order per shop, stock reserved in the same transaction.

Lock order, everywhere in the app: order → merchant orders (by pk) → per-buyer offer counters
(by offer pk) → product stock (by pk) → offers (by pk). The contended rows (stock, offers) are
taken last, each by one conditional UPDATE just before COMMIT, so the hot row is held for as
little time as possible (docs/benchmarks.md, "Orders: checkout").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.stock import product_stock_take
from core.errors import ValidationFailed
from core.masking import mask_name
from livestream import events as room
from livestream.models import Offer, Stream
from regions.models import Region

from ..models import CartItem, MerchantOrder, Order, OrderLine
from .errors import EmptyCart, OfferNotLive, OutOfStock, OverBuyerLimit, SoldOut
from .fees import delivery_fee

TWO = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: int
    offer_id: int | None = None


@dataclass(frozen=True)
class AddressInput:
    village_id: int
    detail: str
    recipient: str
    phone: str


def buyer_display_name(user) -> str:
    return f"{user.last_name}{user.first_name}".strip() or user.username


def merge_lines(lines: list[LineInput]) -> list[LineInput]:
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
    return [LineInput(product_id=p, offer_id=o, quantity=q) for (p, o), q in merged.items()]


def cart_lines(*, buyer) -> tuple[list[LineInput], list[int]]:
    items = list(CartItem.objects.filter(cart__user=buyer).values_list("pk", "product_id", "offer_id", "quantity"))
    if not items:
        raise EmptyCart(fields={"from_cart": [_("Your cart is empty.")]})
    return [LineInput(product_id=p, offer_id=o, quantity=q) for _pk, p, o, q in items], [i[0] for i in items]


def _reserve_buyer_units(*, offer_id: int, buyer_id: int, quantity: int, limit: int | None) -> bool:
    """Add ``quantity`` to the buyer's counter for the offer unless that passes ``limit``.

    One statement; a concurrent checkout of the same buyer waits on the counter row and then
    re-evaluates the WHERE against the committed count, so the limit holds under any interleaving.
    """
    cap = limit if limit is not None else 2_000_000_000
    if quantity > cap:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_offerpurchase (offer_id, buyer_id, quantity) VALUES (%s, %s, %s) "
            "ON CONFLICT (offer_id, buyer_id) DO UPDATE "
            "SET quantity = orders_offerpurchase.quantity + EXCLUDED.quantity "
            "WHERE orders_offerpurchase.quantity + EXCLUDED.quantity <= %s RETURNING quantity",
            [offer_id, buyer_id, quantity, cap],
        )
        return cursor.fetchone() is not None


def _take_offer_units(*, offer_id: int, quantity: int, now) -> int | None:
    """Take units from a live offer, ending it as sold out when they reach 0, in one statement.

    Returns the units left, or None (and nothing changed) if the offer is not live or has fewer.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE livestream_offer SET remaining = remaining - %(n)s, "
            "status = CASE WHEN remaining = %(n)s THEN 'ended' ELSE status END, "
            "end_reason = CASE WHEN remaining = %(n)s THEN 'sold_out' ELSE end_reason END, "
            "ended_at = CASE WHEN remaining = %(n)s THEN %(now)s ELSE ended_at END "
            "WHERE id = %(id)s AND status = 'live' AND ends_at > %(now)s AND remaining >= %(n)s "
            "RETURNING remaining",
            {"n": quantity, "id": offer_id, "now": now},
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _load(lines: list[LineInput], address: AddressInput, stream_id: int | None):
    village = (Region.objects.filter(pk=address.village_id, level=Region.Level.VILLAGE)
               .values("pk", "name", "county_id", "county__province").first())
    if village is None:
        raise ValidationFailed(fields={"address": {"village": [_("No such village.")]}})
    products = {p.pk: p for p in Product.objects.select_related("merchant__county")
                .filter(pk__in={line.product_id for line in lines})}
    offer_ids = {line.offer_id for line in lines if line.offer_id}
    offers = {o.pk: o for o in Offer.objects.filter(pk__in=offer_ids)} if offer_ids else {}
    now = timezone.now()
    for line in lines:
        product = products.get(line.product_id)
        if (product is None or product.status != Product.Status.LISTED
                or product.merchant.status != product.merchant.Status.APPROVED):
            raise ValidationFailed(_("Product %(id)s is not for sale.") % {"id": line.product_id},
                                   code="product_not_listed", fields={"items": [_("This product is not for sale.")]})
        if line.offer_id:
            offer = offers.get(line.offer_id)
            if offer is None or offer.product_id != line.product_id:
                raise ValidationFailed(fields={"items": [_("This offer is not for that product.")]})
            if stream_id and offer.stream_id != stream_id:
                raise ValidationFailed(fields={"stream": [_("This offer belongs to another live stream.")]})
            if offer.status != Offer.Status.LIVE or offer.ends_at <= now:
                raise OfferNotLive()
    if stream_id and not Stream.objects.filter(pk=stream_id).exists():
        raise ValidationFailed(fields={"stream": [_("No such live stream.")]})
    if not stream_id and offers:
        streams = {o.stream_id for o in offers.values()}
        stream_id = streams.pop() if len(streams) == 1 else None
    return village, products, offers, stream_id, now


def order_create(*, buyer, lines: list[LineInput], address: AddressInput, stream_id: int | None = None,
                 from_cart: bool = False) -> Order:
    """Create and reserve an order. Runs inside the caller's transaction when there is one
    (the Idempotency-Key's), so the answer and the writes commit together."""
    cart_item_ids: list[int] = []
    if from_cart:
        lines, cart_item_ids = cart_lines(buyer=buyer)
    lines = merge_lines(lines)
    village, products, offers, stream_id, now = _load(lines, address, stream_id)

    by_merchant: dict[int, list[LineInput]] = defaultdict(list)
    for line in lines:
        by_merchant[products[line.product_id].merchant_id].append(line)

    with transaction.atomic():
        # Per-buyer counters first (rows of this buyer only), in offer order.
        for line in sorted((ln for ln in lines if ln.offer_id), key=lambda ln: ln.offer_id):
            offer = offers[line.offer_id]
            if not _reserve_buyer_units(offer_id=offer.pk, buyer_id=buyer.pk, quantity=line.quantity,
                                        limit=offer.per_buyer_limit):
                raise OverBuyerLimit(
                    _("You may buy at most %(n)d of this offer.") % {"n": offer.per_buyer_limit},
                    fields={"items": [_("Over the per-buyer limit.")]})

        order = Order(buyer=buyer, village_id=village["pk"], address_detail=address.detail,
                      recipient=address.recipient, recipient_phone=address.phone, stream_id=stream_id,
                      payment_deadline=now + settings.ORDERS_PAYMENT_WINDOW)
        merchant_orders, line_rows = [], []
        for merchant_id in sorted(by_merchant):
            merchant = products[by_merchant[merchant_id][0].product_id].merchant
            rows = []
            for line in by_merchant[merchant_id]:
                product = products[line.product_id]
                price = offers[line.offer_id].price if line.offer_id else product.price
                rows.append(OrderLine(product=product, offer_id=line.offer_id, title=product.title, unit=product.unit,
                                      unit_price=price, quantity=line.quantity,
                                      line_total=(price * line.quantity).quantize(TWO), claims=list(product.claims)))
            items_total = sum((r.line_total for r in rows), Decimal("0.00"))
            fee = delivery_fee(merchant_county_id=merchant.county_id, merchant_province=merchant.county.province,
                               to_county_id=village["county_id"], to_province=village["county__province"],
                               items_total=items_total)
            merchant_orders.append(MerchantOrder(merchant=merchant, items_total=items_total, delivery_fee=fee,
                                                 total=items_total + fee))
            line_rows.append(rows)
        order.items_total = sum((mo.items_total for mo in merchant_orders), Decimal("0.00"))
        order.delivery_total = sum((mo.delivery_fee for mo in merchant_orders), Decimal("0.00"))
        order.total = order.items_total + order.delivery_total
        order.save()
        for mo in merchant_orders:
            mo.order = order
        MerchantOrder.objects.bulk_create(merchant_orders)
        for mo, rows in zip(merchant_orders, line_rows):
            for row in rows:
                row.merchant_order = mo
        OrderLine.objects.bulk_create([row for rows in line_rows for row in rows])
        if cart_item_ids:
            CartItem.objects.filter(pk__in=cart_item_ids).delete()

        # The contended rows last, each one conditional UPDATE, in a fixed order.
        for line in sorted((ln for ln in lines if not ln.offer_id), key=lambda ln: ln.product_id):
            if not product_stock_take(product_id=line.product_id, quantity=line.quantity):
                raise OutOfStock(_("Only few units of “%(title)s” are left.") % {"title": products[line.product_id].title},
                                 fields={"items": [_("Not enough stock.")]})
        left_after: dict[int, int] = {}
        for line in sorted((ln for ln in lines if ln.offer_id), key=lambda ln: ln.offer_id):
            left = _take_offer_units(offer_id=line.offer_id, quantity=line.quantity, now=now)
            if left is None:
                raise SoldOut(fields={"items": [_("Sold out.")]})
            left_after[line.offer_id] = left

    _publish_sale(order=order, buyer=buyer, lines=lines, offers=offers, left_after=left_after)
    _prime_for_output(order, merchant_orders, line_rows, village)
    return order


def _prime_for_output(order, merchant_orders, line_rows, village) -> None:
    """Fill the relation caches with what was just written, so rendering the new order reads
    nothing more while the offer's row lock is still held (until COMMIT)."""
    order.village = Region(pk=village["pk"], name=village["name"], county_id=village["county_id"])
    order._prefetched_objects_cache = {"merchant_orders": merchant_orders, "payments": []}
    for mo, rows in zip(merchant_orders, line_rows):
        mo._prefetched_objects_cache = {"lines": rows}


def _publish_sale(*, order, buyer, lines, offers, left_after) -> None:
    """Room events, sent only if the checkout commits (livestream.events uses on_commit)."""
    from ..gate import offer_gate_close

    for offer_id, left in left_after.items():
        offer = offers[offer_id]
        room.offer_updated(stream_id=offer.stream_id, offer_id=offer_id, remaining=left)
        if left == 0:
            room.offer_ended(stream_id=offer.stream_id, offer_id=offer_id, remaining=0,
                             reason=Offer.EndReason.SOLD_OUT)
            transaction.on_commit(lambda offer_id=offer_id: offer_gate_close(offer_id=offer_id))
    if order.stream_id:
        masked = mask_name(buyer_display_name(buyer))
        for line in lines:
            room.sale_made(stream_id=order.stream_id, product_id=line.product_id, quantity=line.quantity,
                           buyer_masked=masked)
