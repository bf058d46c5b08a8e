"""Mass assignment (OWASP API3): no write endpoint lets its caller set what is not theirs to set.

Every POST/PUT/PATCH route is read from the URL configuration and must have an entry in
``WRITES`` (an unknown write route fails with its name). For each, the endpoint's legitimate
caller first sends a valid body (the control, rolled back); then, one at a time, the same body
with a protected field added — status, owner/user/merchant/buyer, amounts and totals, role, county,
is_staff/is_superuser, and the entry's own (sales counts, trace codes...) — each in a savepoint
rolled back afterwards. The answer must be either a 400 naming the field with nothing changed, or
the control's success with the stored object's protected columns exactly as in the control (and
the same tables touched, with the same number of rows).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tests.security.conftest import FIGURES, snapshot, snapshot_diff
from tests.security.routes import write_operations
from tests.security.world import World, client_for, pdf_file, png_file


# Field name -> what an attacker would like it to be (``None``: computed from the stored model).
def hostile_values(w: World) -> dict[str, object]:
    return {
        "status": None,
        "owner": w.b.consumer.pk,
        "user": w.b.consumer.pk,
        "buyer": w.b.consumer.pk,
        "merchant": w.b.shop.pk,
        "county": w.b.county.pk,
        "role": "admin",
        "is_staff": True,
        "is_superuser": True,
        "price_paid": "0.01",
        "amount": "0.01",
        "total": "0.01",
        "items_total": "0.01",
        "refunded_amount": "999.00",
        "paid_at": "2020-01-01T00:00:00+08:00",
    }


PREFERRED_STATUS = ("approved", "listed", "paid", "succeeded", "resolved", "completed", "refunded", "live",
                    "delivered", "accepted")


def _hostile_status(model, control: dict) -> str:
    try:
        choices = [value for value, _label in model._meta.get_field("status").choices or []] if model else []
    except Exception:  # noqa: BLE001 - a model with no status: any privileged-looking value
        return "approved"
    for value in PREFERRED_STATUS + tuple(choices):
        if value in choices and value != control.get("status"):
            return value
    return "approved"


def _hostile_for(model, name: str, control):
    """A value for column ``name`` that differs from the control's, of the column's type."""
    from django.db import models

    try:
        column = model._meta.get_field(name) if model else None
    except Exception:  # noqa: BLE001
        column = None
    if column is None:
        return "HACKED"
    if column.choices:
        return next((value for value, _label in column.choices if value != control), "HACKED")
    if isinstance(column, models.BooleanField):
        return not control
    if isinstance(column, (models.ForeignKey, models.OneToOneField)):
        return 1 if control != 1 else 2
    if isinstance(column, models.DecimalField):
        return "7.77"
    if isinstance(column, (models.IntegerField, models.PositiveSmallIntegerField)):
        return 777
    if isinstance(column, models.DateTimeField):
        return "2099-01-01T00:00:00+08:00"
    if isinstance(column, models.DateField):
        return "2099-01-01"
    return "HACKED"


@dataclass
class Write:
    actor: Callable[[World], object]  # the legitimate caller (None: anonymous)
    status: int  # the control's answer
    stored: Callable[[World, dict], object] | None  # the object the write creates or changes
    body: Callable[[World], dict] = lambda w: {}
    kwargs: Callable[[World], dict] = lambda w: {}
    multipart: bool = False
    writable: frozenset[str] = frozenset()  # protected names this endpoint legitimately takes
    columns: tuple[str, ...] = ()  # this model's own protected columns, attacked and compared
    random: frozenset[str] = frozenset()  # columns with a fresh random value each time (only != hostile)
    extra: dict[str, Callable[[World, dict], None]] = field(default_factory=dict)  # label -> mutate(w, body)
    send: Callable | None = None  # a custom sender (signed webhooks, media-server forms)
    setup: Callable[[World], None] | None = None
    settings: dict = field(default_factory=dict)



def _day(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def by_id(model_path: str):
    def get(w, body):
        from django.apps import apps

        return apps.get_model(model_path).objects.get(pk=body["id"])
    return get


def fixed(model_path: str, pick: Callable[[World], int]):
    def get(w, body):
        from django.apps import apps

        return apps.get_model(model_path).objects.get(pk=pick(w))
    return get


def today(days: int = 0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _address(w: World) -> dict:
    return {"village": w.a.village.pk, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}


def _set_line(key, value):
    def mutate(w, body):
        body["items"][0][key] = value(w) if callable(value) else value
    return mutate


def _set(key, value):
    def mutate(w, body):
        body[key] = value(w) if callable(value) else value
    return mutate


def _send_signed(client, url, body, multipart):
    from payments.signature import sign

    raw = json.dumps(body).encode()
    return client.post(url, raw, content_type="application/json", HTTP_X_CUNBO_SIGNATURE=sign(raw))


def _refresh_token(user) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user))


def _fresh_merchant_user(w: World) -> None:
    from tests.factories import MerchantUserFactory

    w.extra["fresh_merchant_user"] = MerchantUserFactory()


def _pending_payment(w: World) -> None:
    from payments.services import payment_create

    w.extra["pending_payment"] = payment_create(buyer=w.a.consumer, order_id=w.order_pending)


def _follow(w: World):
    from merchants.models import Follow

    return Follow.objects.get(user=w.a.consumer, merchant=w.a.shop)


HOOK_SECRET = "hook-secret-for-the-security-tests"


def _send_hook(client, url, body, multipart):
    from urllib.parse import urlencode

    return client.post(f"{url}?secret={HOOK_SECRET}", urlencode(body), content_type="application/x-www-form-urlencoded")


def _fresh_operator(w: World) -> None:
    from tests.factories import OperatorFactory

    w.extra["fresh_operator"] = OperatorFactory(county=w.a.county)


def _run_body(w: World) -> dict:
    from logistics.models import Shipment

    waiting = Shipment.objects.get(pk=w.shipment_waiting.pk)
    return {"shipments": [waiting.pk], "vehicle": w.a.vehicle.pk, "hub": waiting.next_hub_id}


def _courier_of(user):
    from logistics.models import Courier

    return Courier.objects.get(user=user)


def _soon(minutes: int = 90) -> str:
    return (timezone.now() + datetime.timedelta(minutes=minutes)).isoformat()


def _mute(w: World):
    from livestream.models import ChatMute

    return ChatMute.objects.get(stream=w.a.stream, user=w.b.consumer)


def _set_share(key, value):
    def mutate(w, body):
        body["shares"][0][key] = value(w) if callable(value) else value
    return mutate


def _share(w: World, **target):
    from ledger.models import MemberShare

    return MemberShare.objects.get(member=w.a.member, **target)


def _line_batch(w: World):
    from ledger.models import LineBatch

    return LineBatch.objects.get(line_id=w.line.pk)


def _line_of(merchant_order) -> int:
    from orders.models import OrderLine

    return OrderLine.objects.filter(merchant_order=merchant_order).values_list("pk", flat=True).first()


PAYOUT_ACCOUNT_COLUMNS = ("merchant", "version", "kind", "holder_name", "bank_name", "number", "reject_reason",
                          "created_by", "reviewed_by", "reviewed_at")


def _funded_shop(w: World) -> None:
    """A shop of county A with money available and a verified account, no payout on its way."""
    from django.conf import settings

    from ledger.services import settlement_release
    from orders.models import MerchantOrder
    from payouts.services import payout_account_change, payout_account_review
    from tests.factories import MerchantFactory, ProductFactory
    from tests.logistics.factories import paid_merchant_order

    shop = MerchantFactory(village=w.a.village)
    mo = paid_merchant_order(merchant=shop, buyer=w.a.consumer, village=w.a.buyer_village,
                             products=[ProductFactory(merchant=shop, price=Decimal("50.00"))])
    MerchantOrder.objects.filter(pk=mo.pk).update(
        status=MerchantOrder.Status.COMPLETED,
        completed_at=timezone.now() - settings.LEDGER_RETURN_WINDOW - datetime.timedelta(hours=1))
    settlement_release(merchant_order_id=mo.pk)
    account = payout_account_change(user=shop.user, kind="bank", holder_name="新户主", bank_name="农商银行",
                                    account_number="6228480055556666777")
    payout_account_review(user=w.a.operator, account_id=account.pk, decision="verify")
    w.extra["funded_shop"] = shop


def _send_payout_signed(client, url, body, multipart):
    from payouts.providers.sandbox import HEADER, sign

    raw = json.dumps(body).encode()
    return client.post(url, raw, content_type="application/json", headers={HEADER: sign(raw)})


def _buyer_profile(w: World):
    from insights.models import BuyerProfile

    return BuyerProfile.objects.get(user=w.a.consumer)


def _preference(w: World):
    from notifications.models import Preference

    return Preference.objects.get(user=w.a.consumer)


STREAM_COLUMNS = ("merchant", "stream_key", "playback_id", "peak_viewers", "started_at", "ended_at", "ingest_active",
                  "ingest_addr")
STREAM_RANDOM = frozenset({"stream_key", "playback_id"})
SHIPMENT_COLUMNS = ("merchant_order", "origin_county", "destination_county", "destination_village", "pickup_code",
                    "current_dispatch", "delivery_attempts", "pickup_code_failures")
DISPATCH_COLUMNS = ("created_by", "vehicle", "courier", "destination_hub")
PRODUCT_COLUMNS = ("sales_count", "rating_avg", "rating_count", "search_document")
a_merchant = lambda w: w.a.merchant_user  # noqa: E731
a_consumer = lambda w: w.a.consumer  # noqa: E731
a_operator = lambda w: w.a.operator  # noqa: E731

WRITES: dict[tuple[str, str], Write] = {
    # --- accounts ----------------------------------------------------------------------------
    ("auth-register", "POST"): Write(
        actor=lambda w: None, status=201, stored=by_id("accounts.User"),
        body=lambda w: {"username": "new_buyer", "password": "Str0ng-pass-村播", "role": "consumer"},
        columns=("language", "is_active", "last_login", "date_joined"),
        extra={"role=admin": _set("role", "admin"), "role=operator": _set("role", "operator")}),
    ("auth-token", "POST"): Write(
        actor=lambda w: None, status=200, stored=None,
        body=lambda w: {"username": w.a.consumer.username, "password": "Str0ng-pass-村播"}),
    ("auth-token-refresh", "POST"): Write(
        actor=lambda w: None, status=200, stored=None,
        body=lambda w: {"refresh": _refresh_token(w.a.consumer)}),
    ("auth-logout", "POST"): Write(
        actor=lambda w: None, status=204, stored=None,
        body=lambda w: {"refresh": _refresh_token(w.a.consumer)}),
    ("auth-password", "POST"): Write(
        actor=a_consumer, status=200, stored=None,
        body=lambda w: {"old_password": "Str0ng-pass-村播", "new_password": "An0ther-pass-村播"}),
    ("operator-create", "POST"): Write(
        actor=lambda w: w.admin, status=201, stored=by_id("accounts.User"), writable=frozenset({"county"}),
        body=lambda w: {"username": "new_operator", "password": "Str0ng-pass-村播", "county": w.a.county.pk},
        extra={"role=consumer": _set("role", "consumer")}),
    # --- merchants ---------------------------------------------------------------------------
    ("merchant-list", "POST"): Write(
        actor=lambda w: w.extra["fresh_merchant_user"], status=201, stored=by_id("merchants.Merchant"),
        setup=_fresh_merchant_user,
        body=lambda w: {"shop_name": "新合作社", "village": w.a.village.pk, "kind": "cooperative",
                        "contact_phone": "13700001111"},
        columns=("rating_avg", "rating_count", "village")),
    ("merchant-detail", "PATCH"): Write(
        actor=a_merchant, status=200, stored=fixed("merchants.Merchant", lambda w: w.a.shop.pk),
        kwargs=lambda w: {"pk": w.a.shop.pk}, body=lambda w: {"description": "新简介"},
        columns=("rating_avg", "rating_count")),
    ("merchant-resubmit", "POST"): Write(
        actor=lambda w: w.shop_rejected.user, status=200,
        stored=fixed("merchants.Merchant", lambda w: w.shop_rejected.pk),
        kwargs=lambda w: {"pk": w.shop_rejected.pk}, body=lambda w: {"note": "补充材料"}),
    ("merchant-review", "POST"): Write(
        actor=a_operator, status=200, stored=fixed("merchants.Merchant", lambda w: w.a.shop.pk),
        kwargs=lambda w: {"pk": w.a.shop.pk}, body=lambda w: {"decision": "suspend", "reason": "抽检不合格"}),
    ("merchant-follow", "POST"): Write(
        actor=a_consumer, status=201, kwargs=lambda w: {"pk": w.a.shop.pk},
        stored=lambda w, body: _follow(w)),
    ("merchant-credentials", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("merchants.Credential"), multipart=True,
        kwargs=lambda w: {"pk": w.a.shop.pk},
        body=lambda w: {"kind": "geo_indication", "number": "GI-2026-0001", "file": pdf_file()},
        columns=("file_content_type", "reminded_30_at", "reminded_7_at")),
    ("credential-review", "POST"): Write(
        actor=a_operator, status=200, stored=fixed("merchants.Credential", lambda w: w.credential_pending.pk),
        kwargs=lambda w: {"pk": w.a.shop.pk, "credential_id": w.credential_pending.pk},
        body=lambda w: {"decision": "reject", "reason": "看不清"}, columns=("number", "expires_at")),
    # --- catalog -----------------------------------------------------------------------------
    ("product-list", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("catalog.Product"),
        body=lambda w: {"title": "新茄子", "category": w.a.product.category_id, "price": "6.50", "unit": "斤",
                        "stock": 10, "origin": w.a.village.pk},
        columns=PRODUCT_COLUMNS),
    ("product-detail", "PATCH"): Write(
        actor=a_merchant, status=200, stored=fixed("catalog.Product", lambda w: w.a.product.pk),
        kwargs=lambda w: {"pk": w.a.product.pk}, body=lambda w: {"description": "更甜了"},
        columns=PRODUCT_COLUMNS),  # stock is the owner's to set (contract: PATCH)
    ("product-review", "POST"): Write(
        actor=a_operator, status=200, stored=fixed("catalog.Product", lambda w: w.product_pending.pk),
        kwargs=lambda w: {"pk": w.product_pending.pk}, body=lambda w: {"decision": "reject", "reason": "图不清"},
        columns=PRODUCT_COLUMNS + ("price", "stock")),
    ("product-delist", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("catalog.Product", lambda w: w.a.product.pk),
        kwargs=lambda w: {"pk": w.a.product.pk}, body=lambda w: {"reason": "卖完了"},
        columns=PRODUCT_COLUMNS + ("price", "stock")),
    ("product-relist", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("catalog.Product", lambda w: w.product_delisted.pk),
        kwargs=lambda w: {"pk": w.product_delisted.pk}, columns=PRODUCT_COLUMNS + ("price", "stock")),
    ("product-stock", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("catalog.Product", lambda w: w.a.product.pk),
        kwargs=lambda w: {"pk": w.a.product.pk}, body=lambda w: {"delta": 5},
        columns=PRODUCT_COLUMNS + ("price",), extra={"stock=99999": _set("stock", 99999)}),
    ("product-images", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("catalog.ProductImage"), multipart=True,
        kwargs=lambda w: {"pk": w.a.product.pk}, body=lambda w: {"image": png_file()},
        columns=("product",), extra={"product=B": _set("product", lambda w: w.b.product.pk)}),
    ("product-batches", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("catalog.HarvestBatch"),
        kwargs=lambda w: {"pk": w.a.product.pk}, body=lambda w: {"harvested_at": today(-1), "plot": "西坡"},
        columns=("product", "trace_code", "unit"), random=frozenset({"trace_code"}),
        extra={"product=B": _set("product", lambda w: w.b.product.pk)}),
    # --- orders ------------------------------------------------------------------------------
    ("cart-item-create", "POST"): Write(
        actor=a_consumer, status=201, stored=by_id("orders.CartItem"),
        body=lambda w: {"product": w.b.product.pk, "quantity": 2},
        columns=("cart", "unit_price", "price"), extra={"cart=B": _set("cart", lambda w: w.b.cart_item.cart_id)}),
    ("cart-item", "PATCH"): Write(
        actor=a_consumer, status=200, stored=fixed("orders.CartItem", lambda w: w.a.cart_item.pk),
        kwargs=lambda w: {"item_id": w.a.cart_item.pk}, body=lambda w: {"quantity": 3},
        columns=("cart", "product", "offer"),
        extra={"product=B": _set("product", lambda w: w.b.product.pk)}),
    ("order-list", "POST"): Write(
        actor=a_consumer, status=201, stored=by_id("orders.Order"),
        body=lambda w: {"items": [{"product": w.a.product.pk, "quantity": 2}], "address": _address(w)},
        columns=("delivery_total", "payment_deadline", "cancelled_at"),
        extra={"items[].price=0.01": _set_line("price", "0.01"),
               "items[].unit_price=0.01": _set_line("unit_price", "0.01"),
               "items[].merchant=B": _set_line("merchant", lambda w: w.b.shop.pk),
               "delivery_total=0": _set("delivery_total", "0.00")}),
    ("order-cancel", "POST"): Write(
        actor=a_consumer, status=200, stored=fixed("orders.Order", lambda w: w.order_pending),
        kwargs=lambda w: {"order_id": w.order_pending}, columns=("delivery_total",)),
    ("order-pay", "POST"): Write(
        actor=a_consumer, status=201, stored=by_id("payments.Payment"),
        kwargs=lambda w: {"order_id": w.order_pending}, columns=("order", "currency", "provider"),
        extra={"currency=USD": _set("currency", "USD"), "order=other": _set("order", lambda w: w.order_paid)}),
    ("merchant-order-confirm", "POST"): Write(
        actor=a_consumer, status=200, stored=fixed("orders.MerchantOrder", lambda w: w.mo_delivered.pk),
        kwargs=lambda w: {"merchant_order_id": w.mo_delivered.pk}, columns=("delivery_fee",)),
    ("review-create", "POST"): Write(
        actor=a_consumer, status=201, stored=by_id("orders.Review"),
        kwargs=lambda w: {"merchant_order_id": w.mo_delivered.pk}, body=lambda w: {"rating": 4, "text": "不错"},
        columns=("merchant_order",),
        extra={"merchant_order=other": _set("merchant_order", lambda w: w.mo_paid.pk)}),
    ("dispute-create", "POST"): Write(
        actor=a_consumer, status=201, stored=by_id("orders.Dispute"),
        kwargs=lambda w: {"merchant_order_id": w.mo_shippable.pk},
        body=lambda w: {"reason": "damaged", "requested_refund": "1.00", "text": "坏了"},
        columns=("merchant_order", "refund_amount", "decision", "respond_by", "escalate_at", "resolved_by"),
        extra={"refund_amount=999": _set("refund_amount", "999.00"),
               "respond_by=2099": _set("respond_by", "2099-01-01T00:00:00+08:00"),
               "merchant_order=other": _set("merchant_order", lambda w: w.mo_paid.pk)}),
    ("dispute-respond", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("orders.Dispute", lambda w: w.dispute_open.pk),
        kwargs=lambda w: {"dispute_id": w.dispute_open.pk}, body=lambda w: {"accept": False, "text": "有照片吗"},
        columns=("refund_amount", "requested_refund", "decision", "resolved_by"),
        extra={"refund_amount=999": _set("refund_amount", "999.00"),
               "requested_refund=0": _set("requested_refund", "0.00")}),
    ("dispute-resolve", "POST"): Write(
        actor=a_operator, status=200, stored=fixed("orders.Dispute", lambda w: w.dispute_escalated.pk),
        kwargs=lambda w: {"dispute_id": w.dispute_escalated.pk},
        body=lambda w: {"refund_amount": "1.00", "decision": "部分退款"},
        columns=("requested_refund", "resolved_by"), writable=frozenset({"refund_amount"}),
        extra={"resolved_by=B": _set("resolved_by", lambda w: w.b.operator.pk)}),
    # --- adoptions ------------------------------------------------------------------------------
    ("adoption-list", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("farming.Adoption"),
        body=lambda w: {"title": "认养一只羊", "kind": "animal", "product": w.a.product.pk,
                        "season_from": _day(0), "season_to": _day(200),
                        "schedule": {"every": "month", "first_delivery": _day(20), "deliveries": 3},
                        "price": "600.00", "cap": 10},
        writable=frozenset({"price"}), columns=("product", "created_at")),
    ("adoption-adopt", "POST"): Write(
        actor=lambda w: w.b.consumer, status=201, stored=by_id("farming.Subscription"),
        kwargs=lambda w: {"adoption_id": w.a.adoption.pk},
        body=lambda w: {"address": {"village": w.b.buyer_village.pk, "detail": "1号", "recipient": "李四",
                                    "phone": "13800004321"}},
        columns=("order", "adoption", "refunded", "cancelled_at"), random=frozenset({"order"})),
    ("adoption-updates", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("farming.AdoptionUpdate"),
        kwargs=lambda w: {"adoption_id": w.a.adoption.pk}, body=lambda w: {"note": "长大了"},
        columns=("adoption",)),
    ("adoption-subscription-cancel", "POST"): Write(
        actor=a_consumer, status=200, stored=fixed("farming.Subscription", lambda w: w.a.subscription.pk),
        kwargs=lambda w: {"subscription_id": w.a.subscription.pk}, columns=("refunded", "order")),
    # --- live streams ---------------------------------------------------------------------------
    ("stream-list", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("livestream.Stream"),
        body=lambda w: {"title": "新直播", "scheduled_at": _soon(), "products": [w.a.product.pk]},
        columns=STREAM_COLUMNS, random=STREAM_RANDOM),
    ("stream-detail", "PATCH"): Write(
        actor=a_merchant, status=200, stored=fixed("livestream.Stream", lambda w: w.stream_scheduled.pk),
        kwargs=lambda w: {"stream_id": w.stream_scheduled.pk}, body=lambda w: {"title": "新标题"},
        columns=STREAM_COLUMNS, random=STREAM_RANDOM),
    **{(f"stream-{action}", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("livestream.Stream", pick),
        kwargs=lambda w, pick=pick: {"stream_id": pick(w)}, columns=STREAM_COLUMNS, random=STREAM_RANDOM)
       for action, pick in (("start", lambda w: w.stream_scheduled.pk), ("end", lambda w: w.a.stream.pk),
                            ("cancel", lambda w: w.stream_scheduled.pk),
                            ("rotate-key", lambda w: w.stream_scheduled.pk))},
    ("stream-pin", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("livestream.Stream", lambda w: w.a.stream.pk),
        kwargs=lambda w: {"stream_id": w.a.stream.pk}, body=lambda w: {"product": w.a.product.pk},
        columns=STREAM_COLUMNS, random=STREAM_RANDOM),
    ("stream-offers", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("livestream.Offer"), kwargs=lambda w: {"stream_id": w.a.stream.pk},
        body=lambda w: {"product": w.stream_product2.pk, "price": "8.80", "quantity": 5, "duration_s": 600},
        columns=("stream", "remaining", "returned", "end_reason", "ends_at", "ended_at"),
        extra={"stream=B": _set("stream", lambda w: w.b.stream.pk), "remaining=999": _set("remaining", 999)}),
    ("stream-offer-end", "POST"): Write(
        actor=a_merchant, status=200, stored=fixed("livestream.Offer", lambda w: w.a.offer.pk),
        kwargs=lambda w: {"stream_id": w.a.stream.pk, "offer_id": w.a.offer.pk},
        columns=("stream", "product", "price", "quantity", "remaining", "returned", "end_reason")),
    ("stream-mutes", "POST"): Write(
        actor=a_merchant, status=201, stored=lambda w, body: _mute(w), kwargs=lambda w: {"stream_id": w.a.stream.pk},
        body=lambda w: {"user": w.b.consumer.pk}, writable=frozenset({"user"}), columns=("stream", "muted_by"),
        extra={"stream=B": _set("stream", lambda w: w.b.stream.pk),
               "muted_by=B": _set("muted_by", lambda w: w.b.merchant_user.pk)}),
    ("stream-hook-publish", "POST"): Write(
        actor=lambda w: None, status=302, stored=fixed("livestream.Stream", lambda w: w.stream_scheduled.pk),
        send=_send_hook, settings={"MEDIA_HOOK_SECRET": HOOK_SECRET},
        body=lambda w: {"name": w.stream_scheduled.stream_key, "app": "live", "addr": "10.0.0.9", "call": "publish"},
        columns=STREAM_COLUMNS + ("title", "scheduled_at"), random=STREAM_RANDOM),
    ("stream-hook-unpublish", "POST"): Write(
        actor=lambda w: None, status=204, stored=fixed("livestream.Stream", lambda w: w.a.stream.pk),
        send=_send_hook, settings={"MEDIA_HOOK_SECRET": HOOK_SECRET},
        body=lambda w: {"name": w.a.stream.stream_key, "app": "live", "call": "publish_done"},
        columns=STREAM_COLUMNS + ("title",), random=STREAM_RANDOM),
    # --- deliveries ----------------------------------------------------------------------------------
    ("merchant-order-ship", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("logistics.Shipment"), kwargs=lambda w: {"pk": w.mo_to_ship.pk},
        body=lambda w: {"weight_kg": "2.00"}, columns=SHIPMENT_COLUMNS, random=frozenset({"pickup_code"}),
        extra={"merchant_order=other": _set("merchant_order", lambda w: w.mo_shippable.pk),
               "pickup_code=000000": _set("pickup_code", "000000")}),
    ("shipment-events", "POST"): Write(
        actor=a_operator, status=201, stored=fixed("logistics.Shipment", lambda w: w.shipment.pk),
        kwargs=lambda w: {"pk": w.shipment.pk}, body=lambda w: {"status": "picked_up"},
        columns=SHIPMENT_COLUMNS, extra={"pickup_code=000000": _set("pickup_code", "000000")}),
    ("dispatch-list", "POST"): Write(
        actor=a_operator, status=201, stored=by_id("logistics.Dispatch"), body=_run_body,
        # The operator names the run's courier (one of its county's); another county's is attacked.
        columns=DISPATCH_COLUMNS, writable=frozenset({"courier"}),
        extra={"created_by=B": _set("created_by", lambda w: w.b.operator.pk),
               "courier=B": _set("courier", lambda w: _courier_of(w.b.courier).pk)}),
    **{(f"dispatch-{action}", "POST"): Write(
        actor=a_operator, status=200, stored=fixed("logistics.Dispatch", pick), kwargs=lambda w, pick=pick: {"pk": pick(w)},
        columns=DISPATCH_COLUMNS + ("kind",))
       for action, pick in (("depart", lambda w: w.dispatch_planned.pk), ("arrive", lambda w: w.dispatch_departed.pk),
                            ("cancel", lambda w: w.dispatch_planned.pk))},
    ("courier-list", "POST"): Write(
        actor=a_operator, status=201, stored=by_id("logistics.Courier"), setup=_fresh_operator,
        body=lambda w: {"user": w.extra["fresh_operator"].pk}, writable=frozenset({"user"})),
    ("vehicle-list", "POST"): Write(
        actor=a_operator, status=201, stored=by_id("logistics.Vehicle"),
        body=lambda w: {"plate": "鲁A7777X", "capacity_kg": "800.00"}, columns=("is_active",)),
    # --- notifications ----------------------------------------------------------------------------------
    ("notification-read", "POST"): Write(
        actor=a_consumer, status=200, stored=fixed("notifications.Notification", lambda w: w.a.notification.pk),
        kwargs=lambda w: {"pk": w.a.notification.pk}, columns=("kind", "title", "body")),
    ("notification-read-all", "POST"): Write(
        actor=a_consumer, status=200, stored=fixed("notifications.Notification", lambda w: w.a.notification.pk),
        columns=("kind", "title", "body")),
    # --- insights: the buyer's own choices, and clearing what is kept ------------------------------------
    ("my-insights", "PATCH"): Write(
        actor=a_consumer, status=200, stored=lambda w, body: _buyer_profile(w), body=lambda w: {"match_alerts": True},
        columns=("interests", "built_at", "user")),
    ("notification-preferences", "PATCH"): Write(
        actor=a_consumer, status=200, stored=lambda w, body: _preference(w), body=lambda w: {"sms_enabled": False}),
    # --- ledger: a cooperative's members and their shares --------------------------------------------
    ("ledger-members", "POST"): Write(
        actor=a_merchant, status=201, stored=by_id("ledger.CoopMember"),
        body=lambda w: {"name": "赵六", "phone": "13944440004", "payout_kind": "bank",
                        "payout_account": "6222020200004444555", "bank_name": "农商银行"},
        columns=("created_at",), extra={"merchant_id=B": _set("merchant_id", lambda w: w.b.shop.pk)}),
    ("ledger-member", "PATCH"): Write(
        actor=a_merchant, status=200, stored=fixed("ledger.CoopMember", lambda w: w.a.member.pk),
        kwargs=lambda w: {"member_id": w.a.member.pk}, body=lambda w: {"name": "张大海"},
        columns=("created_at",),
        extra={"merchant_id=B": _set("merchant_id", lambda w: w.b.shop.pk)}),
    ("ledger-product-shares", "PUT"): Write(
        actor=a_merchant, status=200, stored=lambda w, body: _share(w, product=w.a.product),
        kwargs=lambda w: {"product_id": w.a.product.pk},
        body=lambda w: {"shares": [{"member": w.a.member.pk, "percent": "100.00"}]},
        columns=("member", "product", "batch"),
        extra={"shares[].product=B": _set_share("product", lambda w: w.b.product.pk),
               "shares[].batch=A": _set_share("batch", lambda w: w.honey_batch.pk),
               "shares[].member=B": _set_share("member", lambda w: w.b.member.pk)}),
    ("ledger-batch-shares", "PUT"): Write(
        actor=a_merchant, status=200, stored=lambda w, body: _share(w, batch=w.honey_batch),
        kwargs=lambda w: {"batch_id": w.honey_batch.pk},
        body=lambda w: {"shares": [{"member": w.a.member.pk, "percent": "100.00"}]},
        columns=("member", "product", "batch"),
        extra={"shares[].batch=B": _set_share("batch", lambda w: w.b.batch.pk),
               "shares[].product=A": _set_share("product", lambda w: w.a.product.pk),
               "shares[].member=B": _set_share("member", lambda w: w.b.member.pk)}),
    ("ledger-line-batch", "PUT"): Write(
        actor=a_merchant, status=200, stored=lambda w, body: _line_batch(w), kwargs=lambda w: {"line_id": w.line.pk},
        body=lambda w: {"batch": w.honey_batch.pk}, columns=("line", "created_at"),
        extra={"batch=B": _set("batch", lambda w: w.b.batch.pk), "line=other": _set("line", lambda w: _line_of(w.mo_paid))}),
    # --- payouts ---------------------------------------------------------------------------------------
    ("merchant-payout-account", "PUT"): Write(
        actor=a_merchant, status=200, stored=by_id("payouts.PayoutAccount"),
        body=lambda w: {"kind": "bank", "holder_name": "A户主", "bank_name": "农商银行",
                        "account_number": "6228480011116666777"},
        columns=PAYOUT_ACCOUNT_COLUMNS, extra={"number=other": _set("number", "6228480000000000001")}),
    ("merchant-payout-list", "POST"): Write(
        actor=lambda w: w.extra["funded_shop"].user, status=201, stored=by_id("payouts.Payout"),
        setup=_funded_shop, body=lambda w: {"amount": "10.00"},
        columns=("account", "batch", "retry_of", "provider", "request_id", "provider_reference", "failure_reason",
                 "requested_by", "sent_at", "accepted_at", "completed_at"), random=frozenset({"request_id"}),
        extra={"account=other": _set("account", lambda w: w.a.payout_account.pk)}),
    **{(f"county-payout-account-{action}", "POST"): Write(
        actor=a_operator, status=200, stored=fixed("payouts.PayoutAccount", lambda w: w.a.payout_account.pk),
        kwargs=lambda w: {"account_id": w.a.payout_account.pk}, body=body, columns=PAYOUT_ACCOUNT_COLUMNS,
        extra={"reviewed_by=B": _set("reviewed_by", lambda w: w.b.operator.pk)})
       for action, body in (("verify", lambda w: {}), ("reject", lambda w: {"reason": "户名不符"}))},
    # The provider's result, signed: fields it does not define are ignored.
    ("payout-callback", "POST"): Write(
        actor=lambda w: None, status=200, send=_send_payout_signed,
        stored=fixed("payouts.Payout", lambda w: w.a.payout.pk), kwargs=lambda w: {"provider": "sandbox"},
        body=lambda w: {"notify_id": "ntf_mass_1", "out_biz_no": str(w.a.payout.request_id), "order_id": "SBX-1",
                        "status": "SUCCESS", "trans_amount": f"{w.a.payout.amount:.2f}", "fail_reason": ""},
        columns=("merchant", "account", "amount", "provider", "request_id", "batch", "retry_of"),
        extra={"payout=other": _set("payout", lambda w: w.b.payout.pk)}),
    # --- payments: the notice is the provider's, signed; fields it does not define are ignored ---------
    ("payment-webhook", "POST"): Write(
        actor=lambda w: None, status=200, send=_send_signed, setup=_pending_payment,
        stored=lambda w, body: type(w.extra["pending_payment"]).objects.get(pk=w.extra["pending_payment"].pk),
        kwargs=lambda w: {"provider": "sandbox"},
        body=lambda w: {"event_id": "evt_mass_1", "type": "payment.succeeded",
                        "payment_id": w.extra["pending_payment"].pk,
                        "amount": f"{w.extra['pending_payment'].amount:.2f}", "currency": "CNY"},
        columns=("order", "currency", "provider"), writable=frozenset({"amount", "status"}),
        extra={"order=other": _set("order", lambda w: w.order_paid)}),
}

OPERATIONS = {(route.name, method): route for route, method in write_operations()}


def test_every_write_endpoint_is_declared():
    missing = sorted(f"{name} {method}" for name, method in set(OPERATIONS) - set(WRITES))
    assert not missing, f"write endpoints with no entry in WRITES: {missing}"
    stale = sorted(f"{name} {method}" for name, method in set(WRITES) - set(OPERATIONS))
    assert not stale, f"entries for write endpoints that no longer exist: {stale}"


def _json(response) -> dict:
    return response.json() if response.get("Content-Type", "").startswith("application/json") else {}


def _columns(instance, names) -> dict:
    values = {}
    for name in names:
        try:
            model_field = instance._meta.get_field(name)
        except Exception:  # noqa: BLE001 - not a column of this model
            continue
        if model_field.concrete:
            values[name] = getattr(instance, model_field.attname)
    return values


def _table_shape(diff: dict) -> dict:
    return {table: (len(rows["removed"]), len(rows["added"])) for table, rows in diff.items()}


def _same_as_control(value, control) -> bool:
    """Equal, or for times computed from the clock (deadlines, joined at), within a minute."""
    if isinstance(value, datetime.datetime) and isinstance(control, datetime.datetime):
        return abs((value - control).total_seconds()) < 60
    return value == control


def _same_value(stored, hostile) -> bool:
    return str(stored) == str(hostile) or (isinstance(stored, bool) and stored is hostile)


@pytest.mark.parametrize(("name", "method"), sorted(OPERATIONS), ids=lambda v: str(v))
def test_protected_fields_are_refused_or_ignored(name, method, world, db):
    spec = WRITES.get((name, method))
    assert spec is not None, f"{name} {method} has no entry in WRITES"
    overrides = override_settings(**spec.settings)
    overrides.enable()
    try:
        _run_write(name, method, spec, world)
    finally:
        overrides.disable()


def _run_write(name, method, spec, world):
    route = OPERATIONS[(name, method)]
    if spec.setup:
        spec.setup(world)
    actor = spec.actor(world)
    client = client_for(actor)
    url = route.url(**spec.kwargs(world))

    def send(body):
        if spec.send:
            return spec.send(client, url, body, spec.multipart)
        call = getattr(client, method.lower())
        return call(url, body, format="multipart" if spec.multipart else "json")

    # The control, rolled back (each attempt below starts from this same state).
    savepoint = transaction.savepoint()
    before = snapshot()
    response = send(spec.body(world))
    assert response.status_code == spec.status, (name, method, response.content[:500])
    control_shape = _table_shape(snapshot_diff(before, snapshot()))
    control_obj = spec.stored(world, _json(response)) if spec.stored else None
    transaction.savepoint_rollback(savepoint)

    values = hostile_values(world)
    compared = [c for c in [*values, *spec.columns] if c not in spec.writable]
    control = _columns(control_obj, compared) if control_obj is not None else {}
    model = type(control_obj) if control_obj is not None else None
    values["status"] = _hostile_status(model, control) if model else "approved"
    for column in spec.columns:
        values[column] = _hostile_for(model, column, control.get(column))
    body_keys = set(spec.body(world))
    attacks: dict[str, Callable[[World, dict], None]] = {
        key: _set(key, values[key]) for key in [*values, *spec.columns]
        if key not in spec.writable and key not in body_keys}
    attacks.update(spec.extra)

    problems = []
    for label, mutate in attacks.items():
        body = spec.body(world)
        mutate(world, body)
        sent = {k: v for k, v in body.items() if not hasattr(v, "read")}
        savepoint = transaction.savepoint()
        cache.clear()  # throttles are tested on their own; here every attempt must reach the view
        response = send(body)
        diff = snapshot_diff(before, snapshot())
        top = re.split(r"[=\[.]", label)[0]
        if response.status_code == 400:
            fields = response.json().get("error", {}).get("fields", {})
            if diff:
                problems.append(f"{label}: refused with 400 but changed {sorted(diff)}")
            elif top not in fields:
                problems.append(f"{label}: 400 for another reason: {fields}")
            else:
                FIGURES["mass"]["refused"] += 1
        elif response.status_code != spec.status:
            problems.append(f"{label}: answered {response.status_code} {response.content[:200]!r}")
        else:
            if _table_shape(diff) != control_shape:
                problems.append(f"{label}: touched {_table_shape(diff)}, the control {control_shape}")
            if spec.stored:
                stored = _columns(spec.stored(world, _json(response)), compared)
                for column, value in stored.items():
                    hostile = sent.get(column, values.get(column))
                    if column in spec.random:
                        if hostile is not None and _same_value(value, hostile):
                            problems.append(f"{label}: stored {column}={value!r}")
                    elif not _same_as_control(value, control.get(column)):
                        problems.append(f"{label}: stored {column}={value!r}, the control {control.get(column)!r}")
            FIGURES["mass"]["ignored"] += 1
        transaction.savepoint_rollback(savepoint)
        FIGURES["mass"]["fields"] += 1
    FIGURES["mass"]["endpoints"] += 1
    assert not problems, f"{name} {method}:\n" + "\n".join(problems)
