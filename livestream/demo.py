"""A scheduled stream for each demo shop that has listed products (idempotent).

Only the demo's own shops (merchants/demo.py): a shop someone created is never given a stream.
Needs the merchants/catalog demo data; with no approved demo shop it does nothing.
"""

import datetime

from django.utils import timezone

from catalog.models import Product
from merchants.demo import SHOPS
from merchants.models import Merchant

from .models import Stream


def seed(report) -> None:
    merchants = Merchant.objects.filter(status=Merchant.Status.APPROVED,
                                        user__username__in=[shop["username"] for shop in SHOPS]).order_by("pk")
    made = 0
    for index, merchant in enumerate(merchants):
        products = list(Product.objects.filter(merchant=merchant, status=Product.Status.LISTED).order_by("pk")[:10])
        if not products:
            continue
        stream = Stream.objects.filter(merchant=merchant, title__startswith="【演示】").first()
        created = stream is None
        if created:
            stream = Stream.objects.create(
                merchant=merchant, title=f"【演示】{merchant.shop_name} 田间直播",
                scheduled_at=timezone.now().replace(minute=0, second=0, microsecond=0)
                + datetime.timedelta(days=1, hours=index),
            )
            stream.products.set(products)
        report.record(stream, created)
        made += 1
    if not made:
        report.note("no approved demo shop with listed products yet: no demo stream")
