"""A small marketplace with two counties, built once per module for the security tests.

County A holds the objects under attack: an approved shop with a listed product (image, harvest
batch, credentials), hidden objects (a shop waiting for vetting, a product waiting for review),
and a consumer with a cart item, orders in every useful state, a payment, a review and disputes.
County B holds the attackers (another consumer, a merchant, an operator) with objects of their
own, so that list endpoints have rows to mix up and nested routes can be crossed (B's parent,
A's child).

Every object is in a state where its owner's action would succeed, so a missing ownership check
shows up as a success or a change, not as a conflict that hides it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests import factories as f
from tests.merchants.factories import pdf_file, png_bytes, png_file  # noqa: F401 - the security tests' uploads

NONEXISTENT = 987_654_321
NONEXISTENT_CODE = "ZZZZNOPE0000"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@dataclass
class Side:
    """One county's people and things."""

    county: object = None
    township: object = None
    village: object = None  # the shop's village
    buyer_village: object = None  # in another township of the county: parcels pass the county centre
    hubs: dict = field(default_factory=dict)
    operator: object = None
    courier: object = None  # a courier account of the county (scan and carry only) with its courier profile
    merchant_user: object = None
    shop: object = None
    consumer: object = None
    product: object = None
    image: object = None
    batch: object = None
    credential: object = None
    cart_item: object = None
    order: object = None  # an order id
    merchant_order: object = None
    dispute: object = None
    shop_pending: object = None  # in the county's vetting queue
    product_pending: object = None  # in the county's review queue
    stream: object = None  # live
    offer: object = None
    message: object = None
    vehicle: object = None
    shipment: object = None
    notification: object = None
    member: object = None  # a member household of the cooperative (county A's holds shares)
    payout_account: object = None  # the shop's current payout account
    payout: object = None  # a payout on its way (sent, not yet confirmed by the provider)
    adoption: object = None  # an open adoption of the shop's product
    subscription: object = None  # the side's consumer adopted it and paid up front
    interaction: object = None  # a product view kept of the county's buyer (insights)


@dataclass
class World:
    a: Side
    b: Side
    admin: object = None
    # county A's objects in particular states
    shop_pending: object = None  # submitted, waiting for vetting (hidden from the public)
    shop_rejected: object = None  # rejected: its owner may resubmit
    product_pending: object = None  # waiting for review (hidden from the public)
    product_delisted: object = None  # its owner may ask to relist it
    credential_pending: object = None  # with a file, waiting for verification
    order_pending: object = None  # pending payment: its buyer may pay or cancel it
    order_paid: object = None
    mo_paid: object = None  # paid, with an open dispute the merchant may answer
    mo_escalated: object = None  # paid, with a dispute contested and escalated: the county operator may resolve it
    mo_shippable: object = None  # paid, nothing else: the merchant may ship it
    mo_delivered: object = None  # delivered: its buyer may confirm it and review it
    mo_completed: object = None  # completed and reviewed
    payment: object = None
    dispute_open: object = None
    dispute_escalated: object = None
    review: object = None
    # live streams
    stream_scheduled: object = None
    stream_hidden: object = None  # of the shop waiting for vetting
    stream_product2: object = None
    mute: object = None
    # deliveries
    mo_to_ship: object = None  # paid: its merchant may ship it
    shipment: object = None  # just shipped: county A's operator may scan it picked up
    shipment_waiting: object = None  # picked up, waiting for a run
    shipments_a: set = field(default_factory=set)
    dispatch_planned: object = None
    dispatch_departed: object = None
    notifications_a: set = field(default_factory=set)
    # the ledger: county A's cooperative
    member_free: object = None  # a member without shares: its owner may delete it
    honey: object = None  # a product with a price of its own, so its money is told apart
    honey_batch: object = None  # a harvest batch of it, with the members' shares
    mo_released: object = None  # paid, completed beyond the return window and released
    line: object = None  # mo_released's order line, packed from honey_batch
    ledger_a: dict = field(default_factory=dict)  # county A's shop: its balance, posting keys, month
    ledger_b: dict = field(default_factory=dict)
    # payouts: county A's shop was paid out to its verified account (payout_account_old), then gave a
    # new account (a.payout_account, unverified: its county's operator may verify or reject it)
    payout_account_old: object = None
    # adoptions: county A's shop also has a closed one (hidden from the public), and posted an update
    adoption_closed: object = None
    adoption_update: object = None
    extra: dict = field(default_factory=dict)

    def clients(self) -> dict[str, APIClient]:
        clients = {
            "anonymous": client_for(None),
            "consumer_b": client_for(self.b.consumer),
            "merchant_b": client_for(self.b.merchant_user),
            "operator_b": client_for(self.b.operator),
        }
        if self.b.courier is not None:
            clients["courier_b"] = client_for(self.b.courier)
        return clients


def _side(letter: str) -> Side:
    from merchants.models import Credential
    from tests.factories import HubFactory

    side = Side()
    side.county = f.CountyFactory(name=f"{letter}县")
    side.township = f.TownshipFactory(parent=side.county, name=f"{letter}镇")
    side.village = f.VillageFactory(parent=side.township, name=f"{letter}村")
    far_township = f.TownshipFactory(parent=side.county, name=f"{letter}二镇")
    side.buyer_village = f.VillageFactory(parent=far_township, name=f"{letter}二村")
    for key, kind, region in (("centre", "county_centre", side.county), ("station", "township_station", side.township),
                              ("point", "village_point", side.village),
                              ("far_station", "township_station", far_township),
                              ("far_point", "village_point", side.buyer_village)):
        side.hubs[key] = HubFactory(kind=kind, region=region, name=f"{letter}-{key}", code=f"SEC-{letter}-{key}")
    side.operator = f.OperatorFactory(county=side.county, username=f"operator_{letter.lower()}")
    side.merchant_user = f.MerchantUserFactory(username=f"merchant_{letter.lower()}")
    side.shop = f.MerchantFactory(user=side.merchant_user, village=side.village, shop_name=f"{letter}合作社")
    side.consumer = f.ConsumerFactory(username=f"consumer_{letter.lower()}")
    side.product = f.ProductFactory(merchant=side.shop, stock=500, title=f"{letter}西红柿")
    side.credential = Credential.objects.create(
        merchant=side.shop, kind=Credential.Kind.ORGANIC_CERT, number=f"ORG-{letter}-0001", issuer="认证中心",
        issued_at=timezone.localdate() - datetime.timedelta(days=30),
        expires_at=timezone.localdate() + datetime.timedelta(days=300),
        status=Credential.Status.APPROVED, file=pdf_file(), file_content_type="application/pdf")
    return side


def _checkout(client: APIClient, side: Side, product, quantity: int = 1) -> int:
    body = {"items": [{"product": product.pk, "quantity": quantity}],
            "address": {"village": side.buyer_village.pk, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}}
    response = client.post("/api/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _pay(client: APIClient, order_id: int):
    from payments.models import Payment
    from payments.providers.sandbox import sandbox_notice
    from payments.signature import sign

    response = client.post(f"/api/orders/{order_id}/pay/", {}, format="json")
    assert response.status_code == 201, response.content
    payment = Payment.objects.get(pk=response.json()["id"])
    body = sandbox_notice(payment=payment)
    response = client.post("/api/payments/webhook/sandbox/", body, content_type="application/json",
                           HTTP_X_CUNBO_SIGNATURE=sign(body))
    assert response.json() == {"outcome": "paid"}, response.content
    payment.refresh_from_db()
    return payment


def _paid_merchant_order(client, side, product):
    from orders.models import MerchantOrder

    order_id = _checkout(client, side, product)
    payment = _pay(client, order_id)
    return MerchantOrder.objects.get(order_id=order_id), payment


def build_world() -> World:
    """Create the world (inside the caller's transaction) and return it."""
    from catalog.models import Product, ProductImage
    from catalog.services.batches import batch_create
    from merchants.models import Credential, Merchant
    from orders.models import Cart, CartItem, Dispute
    from orders.services.disputes import dispute_open, dispute_respond
    from orders.services.reviews import review_create
    from orders.status import merchant_order_transition

    world = World(a=_side("A"), b=_side("B"))
    a, b = world.a, world.b
    world.admin = f.AdminFactory(username="platform_admin")

    # Catalog objects on both sides.
    for side in (a, b):
        side.image = ProductImage.objects.create(product=side.product, image=png_file(), position=0)
        side.batch = batch_create(product_id=side.product.pk, user=side.merchant_user,
                                  harvested_at=timezone.localdate() - datetime.timedelta(days=2), plot="东坡")
        cart, _ = Cart.objects.get_or_create(user=side.consumer)
        side.cart_item = CartItem.objects.create(cart=cart, product=side.product, quantity=1)

    world.shop_pending = f.MerchantFactory(village=a.village, status=Merchant.Status.SUBMITTED, shop_name="待审合作社")
    world.shop_rejected = f.MerchantFactory(village=a.village, status=Merchant.Status.REJECTED, shop_name="被拒合作社")
    world.product_pending = f.ProductFactory(merchant=a.shop, status=Product.Status.PENDING_REVIEW, title="待审苹果")
    world.product_delisted = f.ProductFactory(merchant=a.shop, status=Product.Status.DELISTED, title="下架梨")
    world.credential_pending = Credential.objects.create(
        merchant=a.shop, kind=Credential.Kind.GREEN_FOOD_CERT, number="GF-A-0002", issuer="绿色食品中心",
        issued_at=timezone.localdate() - datetime.timedelta(days=10),
        expires_at=timezone.localdate() + datetime.timedelta(days=200),
        status=Credential.Status.PENDING, file=pdf_file("green.pdf"), file_content_type="application/pdf")

    # County A's consumer: orders in each state the routes act on.
    buyer = client_for(a.consumer)
    world.order_pending = _checkout(buyer, a, a.product)
    world.mo_paid, world.payment = _paid_merchant_order(buyer, a, a.product)
    world.order_paid = world.mo_paid.order_id
    world.mo_escalated, _ = _paid_merchant_order(buyer, a, a.product)
    world.mo_shippable, _ = _paid_merchant_order(buyer, a, a.product)
    world.mo_delivered, _ = _paid_merchant_order(buyer, a, a.product)
    merchant_order_transition(world.mo_delivered, "shipped")
    merchant_order_transition(world.mo_delivered, "delivered")
    world.mo_completed, _ = _paid_merchant_order(buyer, a, a.product)
    merchant_order_transition(world.mo_completed, "shipped")
    merchant_order_transition(world.mo_completed, "delivered")
    merchant_order_transition(world.mo_completed, "completed")
    world.review = review_create(buyer=a.consumer, merchant_order_id=world.mo_completed.pk, rating=5, text="好吃")
    world.dispute_open = dispute_open(buyer=a.consumer, merchant_order_id=world.mo_paid.pk, reason="damaged",
                                      requested_refund=Decimal("5.00"), text="压坏了")
    world.dispute_escalated = dispute_open(buyer=a.consumer, merchant_order_id=world.mo_escalated.pk,
                                           reason="quality", requested_refund=Decimal("5.00"), text="不新鲜")
    dispute_respond(merchant_user=a.merchant_user, dispute_id=world.dispute_escalated.pk, accept=False, text="新鲜的")
    world.dispute_escalated.refresh_from_db()
    assert world.dispute_escalated.status == Dispute.Status.ESCALATED

    # County B's people have rows of their own, so that a list scoped to nobody cannot pass.
    b.merchant_order, _ = _paid_merchant_order(client_for(b.consumer), b, b.product)
    b.order = b.merchant_order.order_id
    b.dispute = dispute_open(buyer=b.consumer, merchant_order_id=b.merchant_order.pk, reason="other",
                             requested_refund=Decimal("1.00"), text="少了一个")
    a.order, a.merchant_order, a.dispute = world.order_paid, world.mo_paid, world.dispute_open
    a.shop_pending, a.product_pending = world.shop_pending, world.product_pending
    b.shop_pending = f.MerchantFactory(village=b.village, status=Merchant.Status.SUBMITTED, shop_name="B待审")
    b.product_pending = f.ProductFactory(merchant=b.shop, status=Product.Status.PENDING_REVIEW, title="B待审梨")

    if has_model("livestream.ChatMute"):
        _build_livestream(world)
    if has_model("logistics.Shipment"):
        _build_logistics(world)
    if has_model("notifications.Notification"):
        _build_notifications(world)
    if has_model("ledger.CoopMember"):
        _build_ledger(world)
    if has_model("payouts.Payout"):
        _build_payouts(world)
    if has_model("farming.Adoption"):
        _build_farming(world)
    if has_model("insights.InteractionEvent"):
        _build_insights(world)
    if has_model("ledger.CoopMember"):  # last: every part of the world that moves money is built
        _ledger_figures(world)
    return world


def _build_insights(world: World) -> None:
    from insights.models import InteractionEvent

    for side in (world.a, world.b):
        side.interaction = InteractionEvent.objects.create(user=side.consumer, kind="view", product=side.product,
                                                           merchant=side.shop, at=timezone.now())


def has_model(label: str) -> bool:
    from django.apps import apps

    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def _build_livestream(world: World) -> None:
    """A live stream on each side with a flash offer and a chat line; county A also has a
    scheduled stream (its owner may start, cancel or re-key it), a muted chatter, and a stream of
    the shop waiting for vetting (hidden from the public)."""
    from livestream.models import ChatMessage, ChatMute, Stream
    from livestream.services.offers import offer_start

    for side in (world.a, world.b):
        side.stream = f.StreamFactory(merchant=side.shop, status=Stream.Status.LIVE, started_at=timezone.now())
        side.stream.products.add(side.product)
        side.offer = offer_start(stream_id=side.stream.pk, actor=side.merchant_user, product_id=side.product.pk,
                                 price=Decimal("9.90"), quantity=20, duration_s=1800, per_buyer_limit=5)
        side.message = ChatMessage.objects.create(stream=side.stream, user=side.consumer, text="多少钱一斤？")
    world.stream_product2 = f.ProductFactory(merchant=world.a.shop, stock=100, title="A黄瓜")
    world.a.stream.products.add(world.stream_product2)  # listed in the live stream, no offer yet
    world.stream_scheduled = f.StreamFactory(merchant=world.a.shop)
    world.stream_scheduled.products.add(world.a.product)
    world.stream_hidden = f.StreamFactory(merchant=world.shop_pending)
    world.mute = ChatMute.objects.create(stream=world.a.stream, user=world.a.consumer, muted_by=world.a.merchant_user)


def _scan(operator, shipment, status, hub=None):
    from logistics.services.shipments import shipment_scan

    return shipment_scan(user=operator, shipment_id=shipment.pk, status=status, hub_id=hub.pk if hub else None)


def _build_logistics(world: World) -> None:
    """Each county's fleet (a vehicle, a courier); county A's parcels in the states the routes
    act on: a paid sub-order to ship, a parcel just shipped, one picked up (waiting for a run),
    one on a planned trunk run and one on a departed run; county B has a parcel of its own."""
    from logistics.models import Courier, Vehicle
    from logistics.services.dispatches import dispatch_create, dispatch_depart
    from logistics.services.shipments import shipment_create

    a, b = world.a, world.b
    buyer = client_for(a.consumer)
    for letter, side in (("A", a), ("B", b)):
        side.vehicle = Vehicle.objects.create(county=side.county, plate=f"鲁{letter}SEC01", name="厢式货车",
                                              capacity_kg=Decimal("1000"))
        side.courier = f.CourierUserFactory(county=side.county, username=f"courier_{letter.lower()}")
        Courier.objects.create(user=side.courier, county=side.county, township=side.township)

    def ship():
        merchant_order, _payment = _paid_merchant_order(buyer, a, a.product)
        return shipment_create(user=a.merchant_user, merchant_order_id=merchant_order.pk, weight_kg=Decimal("2.50"))

    def to_centre(shipment):
        _scan(a.operator, shipment, "picked_up")
        _scan(a.operator, shipment, "picked_up", hub=a.hubs["station"])
        _scan(a.operator, shipment, "at_county_centre")
        return shipment

    world.mo_to_ship, _payment = _paid_merchant_order(buyer, a, a.product)
    world.shipment = ship()
    world.shipment_waiting = ship()
    _scan(a.operator, world.shipment_waiting, "picked_up")
    planned, departed = to_centre(ship()), to_centre(ship())
    world.dispatch_planned = dispatch_create(user=a.operator, shipment_ids=[planned.pk], vehicle_id=a.vehicle.pk,
                                             township_id=a.buyer_village.parent_id)
    world.dispatch_departed = dispatch_create(user=a.operator, shipment_ids=[departed.pk], vehicle_id=a.vehicle.pk,
                                              township_id=a.buyer_village.parent_id)
    dispatch_depart(user=a.operator, dispatch_id=world.dispatch_departed.pk)
    world.shipments_a = {world.shipment.pk, world.shipment_waiting.pk, planned.pk, departed.pk}
    b.shipment = shipment_create(user=b.merchant_user, merchant_order_id=b.merchant_order.pk,
                                 weight_kg=Decimal("1.00"))


def _build_notifications(world: World) -> None:
    from notifications.models import Notification
    from notifications.services import notify

    for side in (world.a, world.b):
        notify(user=side.consumer, kind="order.paid", params={"order": side.order})
        side.notification = Notification.objects.filter(user=side.consumer).order_by("-pk").first()
    world.notifications_a = set(Notification.objects.filter(user=world.a.consumer).values_list("pk", flat=True))


def _build_ledger(world: World) -> None:
    """Both shops are cooperatives with member households; county A's has two (one holding shares
    of its product and of a harvest batch, one without shares), an order line packed from that
    batch, and besides the orders paid above (their money pending) a merchant order paid,
    completed beyond the return window and released (available), so its balance, entries and
    statement have rows of both accounts and a members' split; county B's shop has money released
    too. The figures each side's shop sees are recorded at the end (``_ledger_figures``) and differ,
    so an answer showing the other's is caught."""
    from django.conf import settings

    from catalog.services.batches import batch_create
    from ledger.models import CoopMember, LineBatch, MemberShare
    from ledger.services import settlement_release
    from merchants.models import Merchant
    from orders.models import MerchantOrder, OrderLine
    from tests.logistics.factories import paid_merchant_order

    a, b = world.a, world.b
    for side in (a, b):
        assert side.shop.kind == Merchant.Kind.COOPERATIVE
    a.member = CoopMember.objects.create(merchant=a.shop, name="张大山", phone="13911110001", payout_kind="bank",
                                         payout_account="6222020200001111222", bank_name="农商银行")
    world.member_free = CoopMember.objects.create(merchant=a.shop, name="李小花", phone="13911110002",
                                                  payout_kind="alipay", payout_account="lixiaohua@example.com")
    b.member = CoopMember.objects.create(merchant=b.shop, name="王五", phone="13933330003", payout_kind="bank",
                                         payout_account="6228480000333344445", bank_name="邮储银行")
    world.honey = f.ProductFactory(merchant=a.shop, stock=50, title="A蜂蜜", price=Decimal("43.17"))
    world.honey_batch = batch_create(product_id=world.honey.pk, user=a.merchant_user,
                                     harvested_at=timezone.localdate() - datetime.timedelta(days=20), plot="南山")
    MemberShare.objects.create(member=a.member, product=a.product, percent=Decimal("100"))
    MemberShare.objects.create(member=a.member, batch=world.honey_batch, percent=Decimal("100"))

    mo = paid_merchant_order(merchant=a.shop, buyer=a.consumer, village=a.buyer_village, products=[world.honey])
    world.line = OrderLine.objects.get(merchant_order=mo)
    LineBatch.objects.create(line=world.line, batch=world.honey_batch)
    mo.status = MerchantOrder.Status.COMPLETED
    mo.completed_at = timezone.now() - settings.LEDGER_RETURN_WINDOW - datetime.timedelta(hours=1)
    mo.save(update_fields=["status", "completed_at"])
    assert settlement_release(merchant_order_id=mo.pk) is not None
    world.mo_released = mo
    released_b = paid_merchant_order(merchant=b.shop, buyer=b.consumer, village=b.buyer_village, products=[
        f.ProductFactory(merchant=b.shop, title="B蜂蜜", price=Decimal("88.40"))])
    released_b.status = MerchantOrder.Status.COMPLETED
    released_b.completed_at = mo.completed_at
    released_b.save(update_fields=["status", "completed_at"])
    assert settlement_release(merchant_order_id=released_b.pk) is not None


def _ledger_figures(world: World) -> None:
    """What each shop's owner sees of its money, recorded once the world is built."""
    from ledger.models import Entry
    from ledger.selectors import merchant_balance

    a, b = world.a, world.b
    for side, figures in ((a, world.ledger_a), (b, world.ledger_b)):
        balance = merchant_balance(merchant=side.shop)
        figures["pending"], figures["available"] = f"{balance.pending:.2f}", f"{balance.available:.2f}"
        figures["postings"] = set(Entry.objects.filter(account__merchant_id=side.shop.pk)
                                  .values_list("posting__key", flat=True))
    a_figures, b_figures = {world.ledger_a["pending"], world.ledger_a["available"]}, {
        world.ledger_b["pending"], world.ledger_b["available"]}
    assert world.ledger_a["available"] != "0.00" and not a_figures & b_figures, (world.ledger_a, world.ledger_b)
    assert world.ledger_a["postings"] and world.ledger_b["postings"]
    assert not world.ledger_a["postings"] & world.ledger_b["postings"]


PAYOUT_ACCOUNTS = {"A": ("6228480011112222333", "6228480011114444555"), "B": ("6228480099998888777", None)}


def _build_payouts(world: World) -> None:
    """Each shop gave a bank account its county's operator verified and was paid out part of its
    available money (the payout sent, the provider's result still to come); county A's shop then
    gave a new account, waiting for verification (after _build_ledger: both shops have money available)."""
    from payouts.services import payout_account_change, payout_account_review, payout_request

    b = world.b
    for letter, side, amount in (("A", world.a, "20.00"), ("B", b, "30.00")):
        first, second = PAYOUT_ACCOUNTS[letter]
        account = payout_account_change(user=side.merchant_user, kind="bank", holder_name=f"{letter}户主",
                                        bank_name="农商银行", account_number=first)
        side.payout_account = payout_account_review(user=side.operator, account_id=account.pk, decision="verify")
        side.payout = payout_request(user=side.merchant_user, amount=amount)
    world.payout_account_old = world.a.payout_account
    world.a.payout_account = payout_account_change(user=world.a.merchant_user, kind="bank", holder_name="A户主",
                                                   bank_name="农商银行", account_number=PAYOUT_ACCOUNTS["A"][1])


def adoption_body(side: Side) -> dict:
    today = timezone.localdate()
    return {"title": f"{side.county.name}认养一棵树", "product_id": side.product.pk,
            "season_from": today, "season_to": today + datetime.timedelta(days=120), "every": "month",
            "first_delivery": today + datetime.timedelta(days=10), "deliveries": 2, "price": Decimal("200.00"),
            "cap": 5}


def _build_farming(world: World) -> None:
    """Each shop offers an adoption its county's consumer adopted and paid; county A's shop also has a
    closed adoption and posted an update for its adopters."""
    from farming.models import Adoption
    from farming.services import adoption_adopt, adoption_create, adoption_update_post
    from orders.services.direct import DirectAddress

    for side in (world.a, world.b):
        side.adoption = adoption_create(user=side.merchant_user, **adoption_body(side))
        side.subscription = adoption_adopt(
            buyer=side.consumer, adoption_id=side.adoption.pk,
            address=DirectAddress(village_id=side.buyer_village.pk, detail="3排5号", recipient="王小明",
                                  phone="13800001234"))
        _pay(client_for(side.consumer), side.subscription.order_id)
    world.adoption_closed = adoption_create(user=world.a.merchant_user, **adoption_body(world.a))
    Adoption.objects.filter(pk=world.adoption_closed.pk).update(status=Adoption.Status.CLOSED)
    world.adoption_update = adoption_update_post(user=world.a.merchant_user, adoption_id=world.a.adoption.pk,
                                                 note="开花了")
