"""The checkout: the one hot write path of the marketplace, in a room of its own.

A checkout request goes through, in order:

- ``admission`` — the buyer from the access token without a query, the hot-offer gate's verdict
  (a sold-out or over-limit buyer is answered before any database work), the per-process slot;
- ``plan`` — ``checkout_plan`` reads what it decides on and applies every rule (``orders.services``'
  holds, fees and errors), ``checkout_write`` writes it (``order_create`` does both);
- ``sql`` — on PostgreSQL the plan's read and its write are one statement each, templated with the
  models' table, column and status names (``sql_names``); elsewhere (SQLite, ``make run``) the same
  plan is written through the ORM;
- ``gate`` — the Redis counters of live flash offers in front of PostgreSQL (which stays the truth).

The API view parses, calls ``admission`` then ``plan``, renders. Import the modules directly
(``from orders.checkout.plan import order_create``): this package imports nothing itself, so the
order services it uses can import its names without a cycle.
"""
