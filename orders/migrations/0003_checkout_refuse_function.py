"""``orders_checkout_refuse(code)``: aborts the one-statement checkout (orders/checkout/sql.py).

The checkout of one flash-offer line writes the offer, the buyer's counter, the order and its rows in
one autocommit statement; when the offer or the counter refuses, this function raises, so the whole
statement (and everything it wrote) is undone. PostgreSQL only; other databases use the ORM path.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION orders_checkout_refuse(code text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'checkout refused: ' || code, DETAIL = code;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS orders_checkout_refuse(text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_cart_dispute_disputeevent_disputephoto_offerpurchase_and_more")]

    operations = [migrations.RunPython(create, drop)]
