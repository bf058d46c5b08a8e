"""The checkout's SQL: what it reads before deciding and what it writes, in as few round trips as
the rules allow (docs/benchmarks.md, "Orders: checkout").

Every statement of the checkout that is not plain ORM lives here, so the rules stay in
``checkout.py`` and the shapes of the tables stay in one place:

- ``offer_units_take`` / ``buyer_units_reserve`` / ``pending_holds_reserve``: the conditional writes
  that keep the offer from overselling, the buyer within the offer's limit and within what one buyer
  may hold unpaid (portable SQL; the PostgreSQL statements below fold the last two in);
- ``snapshot_read`` (PostgreSQL): the village, the products with their shops, the offers and the
  stream's shop in one statement, which also allocates the new rows' ids so the answer can be rendered
  (and stored with the write) before anything is written;
- ``order_rows_write`` (PostgreSQL): the buyer's unpaid holds and offer counters, the order, its merchant orders and
  lines, the bought cart items and the Idempotency-Key's answer in one statement, inside the
  caller's transaction (the contended rows follow, one UPDATE each, then COMMIT);
- ``order_write_with_offer`` (PostgreSQL): the same plus the offer's units, for an order whose only
  contended row is one flash offer (the hot path of a live sale): one autocommit statement, so the
  offer's row is locked only while that statement runs. A refusal raises inside the statement
  (``orders_checkout_refuse``, migration 0003), which undoes everything it wrote.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

from django.db import DatabaseError, connection

from ..services.holds import NO_LIMIT
from .sql_names import sql

# Tables and statuses are the models' own (sql_names.py): the templates name them in braces.
# Taking units from a live offer, and ending it as sold out when they were its last: one UPDATE,
# written once, used alone and inside the one-statement checkout (with its own parameter names).
_TAKE_OFFER_UNITS = """UPDATE {{offer}} SET remaining = remaining - %({n})s,
  status = CASE WHEN remaining = %({n})s THEN '{{offer_ended}}' ELSE status END,
  end_reason = CASE WHEN remaining = %({n})s THEN '{{offer_sold_out}}' ELSE end_reason END,
  ended_at = CASE WHEN remaining = %({n})s THEN %(now)s ELSE ended_at END
WHERE id = %({id})s AND status = '{{offer_live}}' AND ends_at > %(now)s AND remaining >= %({n})s
RETURNING remaining"""

_OFFER_TAKE = sql(_TAKE_OFFER_UNITS.format(n="n", id="id"))
_BUYER_UNITS = sql("""
INSERT INTO {offerpurchase} (offer_id, buyer_id, quantity) VALUES (%s, %s, %s)
ON CONFLICT (offer_id, buyer_id) DO UPDATE SET quantity = {offerpurchase}.quantity + EXCLUDED.quantity
WHERE {offerpurchase}.quantity + EXCLUDED.quantity <= %s RETURNING quantity
""")


def _prepared_fetchone(statement: str, params: dict):
    """Run one of the checkout's big statements as a prepared statement (psycopg's server-side
    binding, ``prepare=True``): PostgreSQL then plans it once per connection instead of on every
    checkout (planning the snapshot cost more than running it). Errors are Django's, as with any
    cursor, and the statement is logged where Django logs queries (tests counting queries see it)."""
    import psycopg

    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(statement, params, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})
    return row


def offer_units_take(*, offer_id: int, quantity: int, now) -> int | None:
    """Take units from a live offer, ending it as sold out when they reach 0, in one statement.

    Returns the units left, or None (and nothing changed) if the offer is not live or has fewer.
    This is the contended row: callers run it last, just before COMMIT.
    """
    with connection.cursor() as cursor:
        cursor.execute(_OFFER_TAKE, {"n": quantity, "id": offer_id, "now": now})
        row = cursor.fetchone()
    return None if row is None else row[0]


def buyer_units_reserve(*, offer_id: int, buyer_id: int, quantity: int, limit: int | None) -> bool:
    """Add ``quantity`` to the buyer's counter for the offer unless that passes ``limit``.

    One statement; a concurrent checkout of the same buyer waits on the counter row and then
    re-evaluates the WHERE against the committed count, so the limit holds under any interleaving.
    """
    cap = limit if limit is not None else NO_LIMIT
    if quantity > cap:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_BUYER_UNITS, [offer_id, buyer_id, quantity, cap])
        return cursor.fetchone() is not None


def pending_holds_reserve(*, buyer_id: int, holds) -> bool:
    """Raise the buyer's unpaid-hold counters (``holds.Hold``, in scope order) unless one would pass its
    cap; False if one would (the caller rolls back the ones already raised). The portable form of the
    ``holds`` CTE below, for the ORM path."""
    with connection.cursor() as cursor:
        for hold in holds:
            cursor.execute(_HOLD_UPSERT_VALUES,
                           [buyer_id, hold.scope, hold.orders, hold.units, hold.max_orders, hold.max_units])
            if cursor.fetchone() is None:
                return False
    return True


# One buyer's concurrent checkouts serialise on their own rows; the WHERE is evaluated against the
# committed counts after the wait, so a cap holds under any interleaving. The first insert of a scope
# is not compared with its cap: the caller refuses such a checkout before (holds.check_first_holds).
_HOLD_UPSERT = """
INSERT INTO {pendinghold} AS h (buyer_id, scope, orders, units, max_orders, max_units) {source}
ON CONFLICT (buyer_id, scope) DO UPDATE
  SET orders = h.orders + EXCLUDED.orders, units = h.units + EXCLUDED.units,
      max_orders = EXCLUDED.max_orders, max_units = EXCLUDED.max_units
  WHERE h.orders + EXCLUDED.orders <= EXCLUDED.max_orders AND h.units + EXCLUDED.units <= EXCLUDED.max_units
RETURNING scope
"""
_HOLD_UPSERT_VALUES = sql(_HOLD_UPSERT, source="VALUES (%s, %s, %s, %s, %s, %s)")


_SNAPSHOT = sql("""
SELECT
  (SELECT row_to_json(v) FROM (
     SELECT r.id, r.name, r.county_id, coalesce(c.province, '') AS province
     FROM {region} r LEFT JOIN {region} c ON c.id = r.county_id
     WHERE r.id = %(village)s AND r.level = '{village}') v),
  (SELECT coalesce(json_agg(p), '[]') FROM (
     SELECT p.id, p.title, p.unit, p.price::text AS price, p.claims, p.status, p.merchant_id, p.stock,
            p.category_id,
            m.status AS merchant_status, m.shop_name, m.county_id AS merchant_county_id,
            coalesce(mc.province, '') AS merchant_province
     FROM {product} p JOIN {merchant} m ON m.id = p.merchant_id
          LEFT JOIN {region} mc ON mc.id = m.county_id
     WHERE p.id = ANY(%(products)s::bigint[])) p),
  (SELECT coalesce(json_agg(o), '[]') FROM (
     SELECT id, product_id, stream_id, price::text AS price, per_buyer_limit, remaining,
            (status = '{offer_live}' AND ends_at > %(now)s) AS live
     FROM {offer} WHERE id = ANY(%(offers)s::bigint[])) o),
  (SELECT merchant_id FROM {stream} WHERE id = %(stream)s),
  nextval(pg_get_serial_sequence('{order}', 'id')),
  ARRAY(SELECT nextval(pg_get_serial_sequence('{merchantorder}', 'id')) FROM generate_series(1, %(n)s)),
  ARRAY(SELECT nextval(pg_get_serial_sequence('{orderline}', 'id')) FROM generate_series(1, %(n)s))
""")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def snapshot_read(*, village_id: int, product_ids: list[int], offer_ids: list[int], stream_id: int | None,
                  lines: int, now) -> dict:
    """One statement: what the checkout decides on, plus ids for an order of ``lines`` lines
    (as many merchant-order ids as lines: one merchant order never has fewer lines). Unused ids
    are simply skipped, as a rolled-back insert would skip them."""
    village, products, offers, stream_merchant_id, order_id, mo_ids, line_ids = _prepared_fetchone(
        _SNAPSHOT, {"village": village_id, "products": product_ids, "offers": offer_ids, "stream": stream_id or 0,
                    "now": now, "n": lines})
    products, offers = _json(products), _json(offers)
    for row in products:
        row["price"] = Decimal(row["price"])
    for row in offers:
        row["price"] = Decimal(row["price"])
    return {"village": _json(village), "products": products, "offers": offers,
            "stream_merchant_id": stream_merchant_id,
            "order_id": order_id, "merchant_order_ids": mo_ids, "line_ids": line_ids}


_ROWS = """
holds AS (""" + _HOLD_UPSERT.replace("{source}", """
  SELECT %(buyer)s, t.scope, t.orders, t.units, t.max_orders, t.max_units
  FROM unnest(%(h_scope)s::text[], %(h_orders)s::integer[], %(h_units)s::integer[], %(h_max_orders)s::integer[],
              %(h_max_units)s::integer[]) WITH ORDINALITY AS t(scope, orders, units, max_orders, max_units, n)
  ORDER BY t.n""") + """), counters AS (
  INSERT INTO {offerpurchase} AS op (offer_id, buyer_id, quantity)
  SELECT t.offer_id, %(buyer)s, t.quantity
  FROM unnest(%(c_offer)s::bigint[], %(c_qty)s::integer[]) WITH ORDINALITY AS t(offer_id, quantity, n)
  ORDER BY t.n
  ON CONFLICT (offer_id, buyer_id) DO UPDATE SET quantity = op.quantity + EXCLUDED.quantity
  WHERE op.quantity + EXCLUDED.quantity <= coalesce(
    (SELECT per_buyer_limit FROM {offer} WHERE id = EXCLUDED.offer_id), %(no_limit)s)
  RETURNING op.offer_id
), new_order AS (
  INSERT INTO {order} (id, buyer_id, status, items_total, delivery_total, total, village_id, address_detail,
                            recipient, recipient_phone, stream_id, payment_deadline, paid_at, cancelled_at,
                            created_at)
  VALUES (%(order_id)s, %(buyer)s, %(status)s, %(items_total)s, %(delivery_total)s, %(total)s, %(village)s,
          %(detail)s, %(recipient)s, %(phone)s, %(stream)s, %(deadline)s, NULL, NULL, %(created_at)s)
  RETURNING id
), merchant_orders AS (
  INSERT INTO {merchantorder} (id, order_id, merchant_id, status, items_total, delivery_fee, total,
                                    refunded_amount, commission, service_fee, shipped_at, delivered_at, completed_at)
  SELECT t.id, %(order_id)s, t.merchant_id, %(status)s, t.items_total, t.fee, t.total, 0, t.commission,
         t.service_fee, NULL, NULL, NULL
  FROM unnest(%(m_id)s::bigint[], %(m_merchant)s::bigint[], %(m_items)s::numeric[], %(m_fee)s::numeric[],
              %(m_total)s::numeric[], %(m_commission)s::numeric[], %(m_service)s::numeric[])
       AS t(id, merchant_id, items_total, fee, total, commission, service_fee)
  RETURNING id
), order_lines AS (
  INSERT INTO {orderline} (id, merchant_order_id, product_id, offer_id, title, unit, unit_price, quantity,
                                line_total, claims, commission_rate, service_fee_rate)
  SELECT t.id, t.mo, t.product, t.offer, t.title, t.unit, t.price, t.quantity, t.total, t.claims::jsonb,
         t.commission_rate, t.service_fee_rate
  FROM unnest(%(l_id)s::bigint[], %(l_mo)s::bigint[], %(l_product)s::bigint[], %(l_offer)s::bigint[],
              %(l_title)s::text[], %(l_unit)s::text[], %(l_price)s::numeric[], %(l_qty)s::integer[],
              %(l_total)s::numeric[], %(l_claims)s::text[], %(l_rate)s::numeric[], %(l_service_rate)s::numeric[])
       AS t(id, mo, product, offer, title, unit, price, quantity, total, claims, commission_rate, service_fee_rate)
  RETURNING id
), bought AS (
  DELETE FROM {cartitem} WHERE id = ANY(%(cart)s::bigint[]) RETURNING id
), answer AS (
  UPDATE {idempotencykey} SET state = '{key_done}', response_status = %(a_status)s, response_body = %(a_body)s::jsonb
  WHERE id = %(a_key)s RETURNING id
)
"""

_WRITE = sql("WITH " + _ROWS + """
SELECT (SELECT count(*) FROM holds), (SELECT count(*) FROM counters), (SELECT count(*) FROM new_order), (SELECT count(*) FROM merchant_orders),
       (SELECT count(*) FROM order_lines), (SELECT count(*) FROM bought), (SELECT count(*) FROM answer)
""")

# The offer's UPDATE is the same as ``offer_units_take``'s; the final SELECT raises when the offer or a
# counter refused, which aborts the statement and so undoes every row it wrote. PostgreSQL runs the
# CTEs as the final SELECT first reads them: its first WHEN writes the order's rows, the second the
# buyer's counter, and only the third takes the offer's row, so the hot row is locked for the end of
# the statement alone (the deferred foreign-key checks and the commit).
_WRITE_WITH_OFFER = sql("""
WITH taken AS (
""" + _TAKE_OFFER_UNITS.format(n="t_n", id="t_id") + """
), """ + _ROWS + """
SELECT CASE
  WHEN (SELECT count(*) FROM new_order) + (SELECT count(*) FROM merchant_orders) + (SELECT count(*) FROM order_lines)
       + (SELECT count(*) FROM bought) + (SELECT count(*) FROM answer) < 0 THEN NULL
  WHEN (SELECT count(*) FROM holds) <> %(n_holds)s THEN orders_checkout_refuse('pending_limit')
  WHEN (SELECT count(*) FROM counters) <> %(n_counters)s THEN orders_checkout_refuse('over_buyer_limit')
  WHEN NOT EXISTS (SELECT 1 FROM taken) THEN orders_checkout_refuse('sold_out')
  ELSE (SELECT remaining FROM taken) END
""")


class Refused(Exception):
    """The one-statement checkout refused (``code``: sold_out, over_buyer_limit, pending_limit); nothing
    was written."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code



def _params(*, order, merchant_orders, lines, holds, counters, cart_item_ids, answer) -> dict:
    return {
        "buyer": order.buyer_id, "no_limit": NO_LIMIT,
        "h_scope": [h.scope for h in holds], "h_orders": [h.orders for h in holds],
        "h_units": [h.units for h in holds], "h_max_orders": [h.max_orders for h in holds],
        "h_max_units": [h.max_units for h in holds], "n_holds": len(holds),
        "c_offer": [offer_id for offer_id, _n in counters], "c_qty": [n for _offer_id, n in counters],
        "order_id": order.pk, "status": order.status, "items_total": order.items_total,
        "delivery_total": order.delivery_total, "total": order.total, "village": order.village_id,
        "detail": order.address_detail, "recipient": order.recipient, "phone": order.recipient_phone,
        "stream": order.stream_id, "deadline": order.payment_deadline, "created_at": order.created_at,
        "m_id": [mo.pk for mo in merchant_orders], "m_merchant": [mo.merchant_id for mo in merchant_orders],
        "m_items": [mo.items_total for mo in merchant_orders], "m_fee": [mo.delivery_fee for mo in merchant_orders],
        "m_total": [mo.total for mo in merchant_orders],
        "m_commission": [mo.commission for mo in merchant_orders],
        "m_service": [mo.service_fee for mo in merchant_orders],
        "l_id": [ln.pk for ln in lines], "l_mo": [ln.merchant_order_id for ln in lines],
        "l_product": [ln.product_id for ln in lines], "l_offer": [ln.offer_id for ln in lines],
        "l_title": [ln.title for ln in lines], "l_unit": [ln.unit for ln in lines],
        "l_price": [ln.unit_price for ln in lines], "l_qty": [ln.quantity for ln in lines],
        "l_total": [ln.line_total for ln in lines],
        "l_claims": [json.dumps(ln.claims, ensure_ascii=False) for ln in lines],
        "l_rate": [ln.commission_rate for ln in lines], "l_service_rate": [ln.service_fee_rate for ln in lines],
        "cart": cart_item_ids,
        "a_key": answer.key_id if answer else None, "a_status": answer.status if answer else None,
        "a_body": answer.body if answer else None,
    }


def order_rows_write(*, order, merchant_orders, lines, holds, counters: list[tuple[int, int]],
                     cart_item_ids: list[int], answer) -> str | None:
    """Write an order planned with ids (``order``, its ``merchant_orders`` and their ``lines``,
    unsaved model instances) in one statement, with the buyer's unpaid ``holds`` (``holds.Hold``, in
    scope order), offer counters (``(offer id, units)`` in offer order) and the Idempotency-Key's
    ``answer`` (or None).

    Returns None, or what refused: "pending_limit" (a hold would pass its cap) or "over_buyer_limit"
    (a counter would pass its offer's per-buyer limit); the caller must then roll back (the other
    rows of the statement were written)."""
    params = _params(order=order, merchant_orders=merchant_orders, lines=lines, holds=holds, counters=counters,
                     cart_item_ids=cart_item_ids, answer=answer)
    held, counted = _prepared_fetchone(_WRITE, params)[:2]
    if held != len(holds):
        return "pending_limit"
    return "over_buyer_limit" if counted != len(counters) else None


def order_write_with_offer(*, order, merchant_orders, lines, holds, counters: list[tuple[int, int]],
                           cart_item_ids: list[int], answer, offer_id: int, quantity: int, now) -> int:
    """``order_rows_write`` and ``offer_units_take`` as one statement: everything or nothing.
    Returns the offer's units left; raises ``Refused`` (and nothing was written) otherwise.

    Outside a transaction the statement commits on its own; inside one, the caller wraps it in a
    savepoint so that a refusal leaves the caller's transaction usable."""
    params = _params(order=order, merchant_orders=merchant_orders, lines=lines, holds=holds, counters=counters,
                     cart_item_ids=cart_item_ids, answer=answer)
    params.update({"t_id": offer_id, "t_n": quantity, "now": now, "n_counters": len(counters)})
    try:
        return _prepared_fetchone(_WRITE_WITH_OFFER, params)[0]
    except DatabaseError as error:
        diag = getattr(error.__cause__, "diag", None)
        if getattr(diag, "sqlstate", None) == "P0001" and getattr(diag, "message_detail", None) in (
                "sold_out", "over_buyer_limit", "pending_limit"):
            raise Refused(diag.message_detail) from None
        raise
