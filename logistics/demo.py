"""The county network and its working data.

One distribution centre a county, a station a township, a point a village; a
courier, a cold-chain truck and a van per county; and, once listed products
exist, a few demo orders already on their way so an operator's queue is not empty.
"""

from decimal import Decimal

from django.db import transaction

from accounts.demo import DEMO_PASSWORD
from accounts.models import Role, User
from catalog.models import Product
from merchants.models import Merchant
from orders.checkout.plan import CheckoutAddress, CheckoutLine, order_create
from orders.models import MerchantOrder
from payments.demo import demo_pay
from regions.models import Region

from .models import Courier, Hub, Shipment, Vehicle
from .services import shipment_create, shipment_scan

NAME_SUFFIX = {
    Hub.Kind.COUNTY_CENTRE: "县级物流配送中心",
    Hub.Kind.TOWNSHIP_STATION: "快递服务站",
    Hub.Kind.VILLAGE_POINT: "村级服务点",
}
KIND_OF_LEVEL = {level: kind for kind, level in Hub.LEVEL_OF_KIND.items()}
DEMO_COUNTIES = ["370783", "522723"]

# county code: (courier username, phone, home township, [(plate, name, cold chain, capacity kg)])
FLEET = {
    "370783": ("shouguang_courier", "13800000011", "370783004",
               [("鲁G·L0783", "冷藏厢式货车", True, "1500"), ("鲁G·D0783", "厢式货车", False, "2000")]),
    "522723": ("guiding_courier", "13800000012", "522723104",
               [("黔J·L2723", "冷藏面包车", True, "800"), ("黔J·D2723", "面包车", False, "1000")]),
}
DEMO_ORDER_MARK = "演示订单（seed_demo）"
# The demo buyer's addresses: another Shouguang township, and Guiding (an inter-county parcel).
DEMO_DESTINATIONS = ["370783103201", "522723104201", "370783003202"]


def seed(report) -> None:
    _hubs(report)
    _fleet(report)
    _orders_in_flight(report)


def _hubs(report) -> None:
    demo_counties = Region.objects.filter(level=Region.Level.COUNTY, code__in=DEMO_COUNTIES)
    for region in Region.objects.filter(county__in=demo_counties).order_by("code"):
        kind = KIND_OF_LEVEL[region.level]
        hub, created = Hub.objects.get_or_create(
            code=f"HUB-{region.code}",
            defaults={
                "kind": kind,
                "name": f"{region.name}{NAME_SUFFIX[kind]}",
                "region": region,
                "address": f"{region.province}{region.name}",
                # county centres and the tea township's station keep a cold room
                "cold_chain": kind == Hub.Kind.COUNTY_CENTRE or region.code == "370783004",
            },
        )
        report.record(hub, created)


def _fleet(report) -> None:
    for county_code, (username, phone, township_code, vehicles) in FLEET.items():
        county = Region.objects.filter(code=county_code).first()
        if county is None:
            continue
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, role=Role.COURIER, county=county, phone=phone)
            user.set_password(DEMO_PASSWORD)
            user.save()
        elif user.role == Role.OPERATOR:  # seeded by an older version as a full operator
            user.role = Role.COURIER
            user.save(update_fields=["role"])
        courier, created = Courier.objects.get_or_create(
            user=user, defaults={"county": county, "township": Region.objects.filter(code=township_code).first()})
        report.record(courier, created)
        for plate, name, cold_chain, capacity in vehicles:
            vehicle, created = Vehicle.objects.get_or_create(
                plate=plate, defaults={"county": county, "name": name, "cold_chain": cold_chain,
                                       "capacity_kg": Decimal(capacity)})
            report.record(vehicle, created)
    report.note(f"couriers (shouguang_courier, guiding_courier) sign in with password “{DEMO_PASSWORD}”")


def _orders_in_flight(report) -> None:
    if Shipment.objects.filter(merchant_order__order__address_detail=DEMO_ORDER_MARK).exists():
        return
    merchant_orders = _demo_orders()
    if not merchant_orders:
        report.note("no listed products in the demo counties yet: no parcels in flight")
        return

    # One waiting for pickup, one collected, one at the county centre, ...
    stages = [[], ["picked_up"], ["picked_up", ("picked_up", 1), "at_county_centre"]]
    for merchant_order, steps in zip(merchant_orders, stages, strict=False):
        shipment = shipment_create(user=merchant_order.merchant.user, merchant_order_id=merchant_order.pk,
                                   weight_kg=Decimal("2.50"), note="演示包裹")
        operator = User.objects.filter(role=Role.OPERATOR, county=shipment.origin_county).order_by("pk").first()
        for step in steps:
            status, stop = step if isinstance(step, tuple) else (step, None)
            hub = shipment.stops.get(index=stop).hub_id if stop is not None else None
            shipment_scan(user=operator, shipment_id=shipment.pk, status=status, hub_id=hub)
        shipment.refresh_from_db()
        report.record(shipment, True)


@transaction.atomic
def _demo_orders() -> list:
    """A few paid orders of the demo consumer for listed demo products, through the orders app's checkout."""

    buyer = User.objects.filter(username="demo_consumer").first()
    destinations = list(Region.objects.filter(code__in=DEMO_DESTINATIONS).order_by("code"))
    products = list(
        Product.objects.filter(status=Product.Status.LISTED, stock__gte=1, merchant__status=Merchant.Status.APPROVED,
                               merchant__county__code__in=DEMO_COUNTIES)
        .select_related("merchant").order_by("-perishable", "pk")[:3]
    )
    if buyer is None or not destinations or not products:
        return []
    merchant_orders = []
    for i, product in enumerate(products):
        order = order_create(buyer=buyer, lines=[CheckoutLine(product_id=product.pk, quantity=1)],
                             address=CheckoutAddress(village_id=destinations[i % len(destinations)].pk,
                                                  detail=DEMO_ORDER_MARK, recipient="演示买家",
                                                  phone=buyer.phone or "13900000001"))
        demo_pay(order)  # the sandbox's signed notice, as a buyer's payment: the ledger posts it
        merchant_orders += list(MerchantOrder.objects.filter(order=order))
    return merchant_orders
