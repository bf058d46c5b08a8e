"""Builders for the logistics tests: a county network with hubs, and paid merchant orders."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import factory
from django.utils import timezone

from ledger.services import payment_post
from logistics.models import Courier, Hub, Vehicle
from orders.models import MerchantOrder, Order, OrderLine
from payments.models import Payment
from regions.models import Region
from tests.factories import CountyFactory, ProductFactory, TownshipFactory, VillageFactory

KIND_OF_LEVEL = {Region.Level.COUNTY: Hub.Kind.COUNTY_CENTRE, Region.Level.TOWNSHIP: Hub.Kind.TOWNSHIP_STATION,
                 Region.Level.VILLAGE: Hub.Kind.VILLAGE_POINT}


def hub_for(region: Region) -> Hub:
    kind = KIND_OF_LEVEL[region.level]
    return Hub.objects.create(kind=kind, name=f"{region.name}{kind}", code=f"H-{region.code}", region=region)


@dataclass
class County:
    region: Region
    townships: list[Region] = field(default_factory=list)
    villages: dict[int, list[Region]] = field(default_factory=dict)  # township pk -> villages

    @property
    def centre(self) -> Hub:
        return Hub.objects.get(region=self.region, kind=Hub.Kind.COUNTY_CENTRE)

    def station(self, township: Region) -> Hub:
        return Hub.objects.get(region=township, kind=Hub.Kind.TOWNSHIP_STATION)

    def point(self, village: Region) -> Hub:
        return Hub.objects.get(region=village, kind=Hub.Kind.VILLAGE_POINT)


def county_network(*, townships: int = 2, villages: int = 2, name: str | None = None) -> County:
    region = CountyFactory(**({"name": name} if name else {}))
    county = County(region=region)
    hub_for(region)
    for _ in range(townships):
        township = TownshipFactory(parent=region)
        county.townships.append(township)
        hub_for(township)
        county.villages[township.pk] = []
        for _ in range(villages):
            village = VillageFactory(parent=township)
            county.villages[township.pk].append(village)
            hub_for(village)
    return county


def paid_merchant_order(*, merchant, buyer, village: Region, products: list | None = None,
                        status: str = MerchantOrder.Status.PAID) -> MerchantOrder:
    """A checkout already paid, built straight in the ORM (the orders app owns the real flow)."""
    products = products or [ProductFactory(merchant=merchant)]
    total = sum((p.price for p in products), Decimal("0"))
    order_status = Order.Status.PAID if status != MerchantOrder.Status.PENDING_PAYMENT else Order.Status.PENDING_PAYMENT
    order = Order.objects.create(
        buyer=buyer, status=order_status, items_total=total, delivery_total=Decimal("0"), total=total,
        village=village, address_detail="3号院", recipient="王小明", recipient_phone="13912345678",
        payment_deadline=timezone.now() + datetime.timedelta(minutes=30),
        paid_at=timezone.now() if order_status == Order.Status.PAID else None)
    merchant_order = MerchantOrder.objects.create(order=order, merchant=merchant, status=status, items_total=total,
                                                  delivery_fee=Decimal("0"), total=total)
    for product in products:
        OrderLine.objects.create(merchant_order=merchant_order, product=product, title=product.title, unit=product.unit,
                                 unit_price=product.price, quantity=1, line_total=product.price)
    if order_status == Order.Status.PAID:
        payment = Payment.objects.create(order=order, provider="sandbox", amount=total,
                                         status=Payment.Status.SUCCEEDED, provider_reference=f"sandbox-{order.pk}",
                                         succeeded_at=order.paid_at)
        # What the payment's notice posts to the ledger (payments.domain_events.payment_received).
        payment_post(payment_id=payment.pk, order_id=order.pk, provider="sandbox", amount=total, kept=True)
    return merchant_order


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    plate = factory.Sequence(lambda n: f"鲁G{n:05d}")
    name = "厢式货车"
    cold_chain = False
    capacity_kg = Decimal("1000")


class CourierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Courier

    county = factory.SelfAttribute("user.county")
