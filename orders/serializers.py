"""Input and output shapes per endpoint; no logic."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.validators import phone_validator
from core.masking import mask_name, mask_phone

from .checkout.plan import buyer_display_name
from .models import Dispute, MerchantOrder, OrderLine

MONEY = {"max_digits": 12, "decimal_places": 2}
MAX_ID = 2**63 - 1


# --- cart ------------------------------------------------------------------------------------------

class CartItemInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDERS_MAX_LINE_QUANTITY)
    offer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True)


class CartItemUpdateInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDERS_MAX_LINE_QUANTITY)


class CartProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    unit = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    status = serializers.CharField()
    stock = serializers.IntegerField()
    merchant = serializers.IntegerField(source="merchant_id")
    shop_name = serializers.CharField(source="merchant.shop_name")


class CartItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product = CartProductOutput()
    offer = serializers.IntegerField(source="offer_id", allow_null=True)
    quantity = serializers.IntegerField()
    unit_price = serializers.SerializerMethodField(help_text=_("Today's price (the live offer's while it lasts)."))
    line_total = serializers.SerializerMethodField()
    delisted = serializers.SerializerMethodField(help_text=_("The product is no longer for sale."))
    offer_live = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField(help_text=_("It can be bought now in this quantity."))

    def _offer_live(self, item) -> bool:
        from django.utils import timezone

        offer = item.offer
        return bool(offer and offer.status == "live" and offer.ends_at > timezone.now())

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_unit_price(self, item):
        price = item.offer.price if self._offer_live(item) else item.product.price
        return f"{price:.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_line_total(self, item):
        price = item.offer.price if self._offer_live(item) else item.product.price
        return f"{price * item.quantity:.2f}"

    def get_delisted(self, item) -> bool:
        return item.product.status != "listed"

    def get_offer_live(self, item) -> bool | None:
        return None if item.offer_id is None else self._offer_live(item)

    def get_available(self, item) -> bool:
        if item.product.status != "listed":
            return False
        if item.offer_id:
            return self._offer_live(item) and item.offer.remaining >= item.quantity
        return item.product.stock >= item.quantity


class CartOutput(serializers.Serializer):
    id = serializers.IntegerField()
    items = CartItemOutput(many=True)
    items_total = serializers.SerializerMethodField(help_text=_("At today's prices, of the available items."))

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_items_total(self, cart):
        field = CartItemOutput()
        total = Decimal("0.00")
        for item in cart.items.all():
            if field.get_available(item):
                total += Decimal(field.get_line_total(item))
        return f"{total:.2f}"


# --- checkout ------------------------------------------------------------------------------------

class AddressInput(serializers.Serializer):
    village = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Region id of a village."))
    detail = serializers.CharField(max_length=200)
    recipient = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=11, validators=[phone_validator])


class LineInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=settings.ORDERS_MAX_LINE_QUANTITY)
    offer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True)


class CheckoutInput(serializers.Serializer):
    items = LineInput(many=True, required=False, max_length=settings.ORDERS_MAX_LINES)
    from_cart = serializers.BooleanField(required=False, default=False)
    address = AddressInput()
    stream = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                      help_text=_("The live stream the order was placed in."))

    def validate(self, attrs):
        if attrs.get("from_cart") and attrs.get("items"):
            raise serializers.ValidationError({"items": [_("Give items or from_cart, not both.")]})
        if not attrs.get("from_cart") and not attrs.get("items"):
            raise serializers.ValidationError({"items": [_("Give at least one item, or from_cart: true.")]})
        return attrs


def _plain_id(value, *, top=MAX_ID) -> bool:
    return type(value) is int and 1 <= value <= top


def _plain_text(value, max_length: int) -> bool:
    """What CharField accepts unchanged: a non-blank string, nothing to trim, no NUL or surrogate."""
    if type(value) is not str or not value or len(value) > max_length or value.strip() != value or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def checkout_input_plain(data) -> dict | None:
    """``CheckoutInput``'s validated data for the usual body (JSON ints and plain strings, items
    given), built without the serializer, whose construction cost more than the check itself; None
    for anything else, which then goes through ``CheckoutInput`` (and gets its errors). Accepts
    only what ``CheckoutInput`` accepts unchanged: ``tests/orders/test_checkout.py`` compares them."""
    from django.core.exceptions import ValidationError

    if not isinstance(data, dict) or not data.keys() <= {"items", "address", "stream", "from_cart"}:
        return None
    items, address, stream = data.get("items"), data.get("address"), data.get("stream")
    if data.get("from_cart", False) is not False or stream is not None and not _plain_id(stream):
        return None
    if type(items) is not list or not 1 <= len(items) <= settings.ORDERS_MAX_LINES:
        return None
    lines = []
    for item in items:
        if type(item) is not dict or not item.keys() <= {"product", "quantity", "offer"}:
            return None
        offer = item.get("offer")
        if not (_plain_id(item.get("product")) and _plain_id(item.get("quantity"), top=settings.ORDERS_MAX_LINE_QUANTITY)
                and (offer is None or _plain_id(offer))):
            return None
        line = {"product": item["product"], "quantity": item["quantity"]}
        if "offer" in item:
            line["offer"] = offer
        lines.append(line)
    if type(address) is not dict or address.keys() != {"village", "detail", "recipient", "phone"}:
        return None
    if not (_plain_id(address["village"]) and _plain_text(address["detail"], 200)
            and _plain_text(address["recipient"], 50) and _plain_text(address["phone"], 11)):
        return None
    try:
        phone_validator(address["phone"])
    except ValidationError:
        return None
    validated = {"items": lines, "from_cart": False, "address": dict(address)}
    if "stream" in data:
        validated["stream"] = stream
    return validated


class OrderLineOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "product", "offer", "title", "unit", "unit_price", "quantity", "line_total", "claims"]


class MerchantRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    shop_name = serializers.CharField()


def _shipment_id(mo) -> int | None:
    shipment = getattr(mo, "shipment", None)
    return getattr(shipment, "pk", None)


class BuyerMerchantOrderOutput(serializers.ModelSerializer):
    merchant = MerchantRefOutput()
    lines = OrderLineOutput(many=True)
    shipment = serializers.SerializerMethodField(help_text=_("Shipment id once shipped (GET /api/shipments/{id}/)."))

    class Meta:
        model = MerchantOrder
        fields = ["id", "merchant", "status", "items_total", "delivery_fee", "total", "refunded_amount", "lines",
                  "shipment", "shipped_at", "delivered_at", "completed_at"]

    def get_shipment(self, mo) -> int | None:
        return _shipment_id(mo)


class PaymentSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class AddressOutput(serializers.Serializer):
    village = serializers.IntegerField(source="village_id")
    village_name = serializers.CharField(source="village.name")
    detail = serializers.CharField(source="address_detail")
    recipient = serializers.CharField()
    phone = serializers.CharField(source="recipient_phone")


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    items_total = serializers.DecimalField(**MONEY)
    delivery_total = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    payment_deadline = serializers.DateTimeField()
    address = AddressOutput(source="*")
    stream = serializers.IntegerField(source="stream_id", allow_null=True)
    merchant_orders = BuyerMerchantOrderOutput(many=True)
    payments = PaymentSummaryOutput(many=True)
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


_MONEY = serializers.DecimalField(**MONEY)
_PRICE = serializers.DecimalField(max_digits=10, decimal_places=2)  # OrderLine.unit_price
_TIME = serializers.DateTimeField()


def _time(value):
    return _TIME.to_representation(value)


def order_output_data(order) -> dict:
    """``OrderOutput(order).data``, field for field, without building serializers: the checkout's
    answer, rendered on every sale (building the nested serializers cost more than the rest of
    the response). ``tests/orders/test_checkout.py`` keeps the two equal."""
    money = _MONEY.to_representation
    return {
        "id": order.pk, "status": str(order.status), "items_total": money(order.items_total),
        "delivery_total": money(order.delivery_total), "total": money(order.total),
        "payment_deadline": _time(order.payment_deadline),
        "address": {"village": order.village_id, "village_name": str(order.village.name),
                    "detail": str(order.address_detail), "recipient": str(order.recipient),
                    "phone": str(order.recipient_phone)},
        "stream": order.stream_id,
        "merchant_orders": [{
            "id": mo.pk, "merchant": {"id": mo.merchant.pk, "shop_name": str(mo.merchant.shop_name)},
            "status": str(mo.status), "items_total": money(mo.items_total), "delivery_fee": money(mo.delivery_fee),
            "total": money(mo.total), "refunded_amount": money(mo.refunded_amount),
            "lines": [{"id": ln.pk, "product": ln.product_id, "offer": ln.offer_id, "title": str(ln.title),
                       "unit": str(ln.unit), "unit_price": _PRICE.to_representation(ln.unit_price),
                       "quantity": int(ln.quantity), "line_total": money(ln.line_total), "claims": ln.claims}
                      for ln in mo.lines.all()],
            "shipment": _shipment_id(mo), "shipped_at": _time(mo.shipped_at), "delivered_at": _time(mo.delivered_at),
            "completed_at": _time(mo.completed_at),
        } for mo in order.merchant_orders.all()],
        "payments": [{"id": p.pk, "provider": str(p.provider), "amount": money(p.amount), "status": str(p.status),
                      "created_at": _time(p.created_at)} for p in order.payments.all()],
        "created_at": _time(order.created_at), "paid_at": _time(order.paid_at),
        "cancelled_at": _time(order.cancelled_at),
    }


# --- merchant orders -----------------------------------------------------------------------------

VISIBLE_TO_MERCHANT = {MerchantOrder.Status.PAID, MerchantOrder.Status.SHIPPED, MerchantOrder.Status.DELIVERED,
                       MerchantOrder.Status.COMPLETED, MerchantOrder.Status.REFUNDED}
SHIP_TO_VISIBLE = {MerchantOrder.Status.PAID, MerchantOrder.Status.SHIPPED}


class BuyerForMerchantOutput(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()


class ShipToOutput(serializers.Serializer):
    village = serializers.IntegerField()
    village_name = serializers.CharField()
    detail = serializers.CharField(help_text=_("Full only while the order is to be shipped."))
    recipient = serializers.CharField()
    phone = serializers.CharField()


class MerchantOrderOutput(serializers.ModelSerializer):
    """A merchant's view: the buyer masked until paid; the address whole only while it is to be shipped."""

    order = serializers.IntegerField(source="order_id")
    lines = OrderLineOutput(many=True)
    buyer = serializers.SerializerMethodField()
    ship_to = serializers.SerializerMethodField()
    shipment = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="order.created_at")

    class Meta:
        model = MerchantOrder
        fields = ["id", "order", "status", "items_total", "delivery_fee", "total", "refunded_amount", "lines",
                  "buyer", "ship_to", "shipment", "created_at", "shipped_at", "delivered_at", "completed_at"]

    @extend_schema_field(BuyerForMerchantOutput)
    def get_buyer(self, mo):
        buyer = mo.order.buyer
        name, phone = buyer_display_name(buyer), buyer.phone or ""
        if mo.status not in VISIBLE_TO_MERCHANT:
            name, phone = mask_name(name), mask_phone(phone) if phone else ""
        return {"name": name, "phone": phone}

    @extend_schema_field(ShipToOutput)
    def get_ship_to(self, mo):
        order = mo.order
        whole = mo.status in SHIP_TO_VISIBLE
        return {
            "village": order.village_id,
            "village_name": order.village.name,
            "detail": order.address_detail if whole else "",
            "recipient": order.recipient if whole else mask_name(order.recipient),
            "phone": order.recipient_phone if whole else mask_phone(order.recipient_phone),
        }

    def get_shipment(self, mo) -> int | None:
        return _shipment_id(mo)


class MerchantOrderListFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=MerchantOrder.Status.choices, required=False)


# --- reviews -------------------------------------------------------------------------------------

class ReviewInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    merchant_order = serializers.IntegerField(source="merchant_order_id")
    merchant = serializers.IntegerField(source="merchant_id")
    rating = serializers.IntegerField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- disputes ------------------------------------------------------------------------------------

class DisputeOpenInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    requested_refund = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    text = serializers.CharField(max_length=2000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                   max_length=settings.ORDERS_DISPUTE_MAX_PHOTOS,
                                   help_text=_("Up to 6 photos (multipart/form-data): JPEG, PNG or WebP, "
                                               "at most 5 MB each."))


class DisputeRespondInput(serializers.Serializer):
    accept = serializers.BooleanField()
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DisputeResolveInput(serializers.Serializer):
    refund_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    decision = serializers.CharField(max_length=2000, help_text=_("The operator's ruling, shown to both parties."))


class DisputeEventOutput(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    created_at = serializers.DateTimeField()


class DisputeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    merchant_order = serializers.IntegerField(source="merchant_order_id")
    merchant = MerchantRefOutput(source="merchant_order.merchant")
    buyer = serializers.SerializerMethodField()
    county = serializers.IntegerField(source="county_id")
    reason = serializers.CharField()
    requested_refund = serializers.DecimalField(**MONEY)
    text = serializers.CharField()
    photos = serializers.SerializerMethodField()
    status = serializers.CharField()
    merchant_response = serializers.CharField()
    respond_by = serializers.DateTimeField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.CharField()
    refund_amount = serializers.DecimalField(**MONEY, allow_null=True)
    events = DisputeEventOutput(many=True)
    created_at = serializers.DateTimeField()

    def get_buyer(self, dispute) -> str:
        return mask_name(buyer_display_name(dispute.buyer))

    def get_photos(self, dispute) -> list[str]:
        request = self.context.get("request")
        urls = [photo.image.url for photo in dispute.photos.all()]
        return [request.build_absolute_uri(url) for url in urls] if request else urls


class DisputeListFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Dispute.Status.choices, required=False)
