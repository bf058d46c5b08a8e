"""What each buyer holds in unpaid orders (orders/services/holds.py), counted from the orders
already pending when this runs, so paying or cancelling them later lowers counters that hold them."""

from collections import defaultdict

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    PendingHold = apps.get_model("orders", "PendingHold")
    held = defaultdict(lambda: [set(), 0])
    for order_id, buyer_id, product_id, offer_id, quantity in OrderLine.objects.filter(
            merchant_order__order__status="pending_payment").values_list(
            "merchant_order__order_id", "merchant_order__order__buyer_id", "product_id", "offer_id", "quantity"):
        for scope in ("", f"o{offer_id}" if offer_id else f"p{product_id}"):
            held[(buyer_id, scope)][0].add(order_id)
            held[(buyer_id, scope)][1] += quantity
    PendingHold.objects.bulk_create([PendingHold(buyer_id=buyer_id, scope=scope, orders=len(orders), units=units)
                                     for (buyer_id, scope), (orders, units) in held.items()], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_checkout_refuse_function'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingHold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(blank=True, max_length=24)),
                ('orders', models.PositiveIntegerField(default=0)),
                ('units', models.PositiveIntegerField(default=0)),
                ('max_orders', models.PositiveIntegerField(default=0)),
                ('max_units', models.PositiveIntegerField(default=0)),
                ('buyer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('buyer', 'scope'), name='pending_hold_once'), models.CheckConstraint(condition=models.Q(('orders__gte', 0), ('units__gte', 0)), name='pending_hold_not_negative')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
