from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.storage import private_storage
from core.transitions import StatusEvent
from merchants.models import Merchant
from regions.models import Region

MONEY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0.00")}


class Order(models.Model):
    """What a consumer bought in one checkout; split into one merchant order per shop."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("pending payment")
        PAID = "paid", _("paid")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT,
                              db_index=True)
    items_total = models.DecimalField(_("items total"), **MONEY)
    delivery_total = models.DecimalField(_("delivery total"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    # Delivery address, copied at checkout.
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    address_detail = models.CharField(_("address"), max_length=200)
    recipient = models.CharField(_("recipient"), max_length=50)
    recipient_phone = models.CharField(_("recipient phone"), max_length=11)
    stream = models.ForeignKey("livestream.Stream", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="orders")
    payment_deadline = models.DateTimeField(_("pay by"), db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return f"#{self.pk}"


class MerchantOrder(models.Model):
    """The part of an order one merchant ships."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("pending payment")
        PAID = "paid", _("paid")
        SHIPPED = "shipped", _("shipped")
        DELIVERED = "delivered", _("delivered")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        REFUNDED = "refunded", _("refunded")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="merchant_orders")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="merchant_orders")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT,
                              db_index=True)
    items_total = models.DecimalField(_("items total"), **MONEY)
    delivery_fee = models.DecimalField(_("delivery fee"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), **MONEY)
    # What the platform and the merchant's county keep of the goods, at the rates in force at
    # checkout (orders/commission.py): later rule changes never rewrite an order's money.
    commission = models.DecimalField(_("commission"), **MONEY)
    service_fee = models.DecimalField(_("county service fee"), **MONEY)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-order__created_at", "-pk"]
        verbose_name = _("merchant order")
        verbose_name_plural = _("merchant orders")
        constraints = [
            models.CheckConstraint(condition=models.Q(refunded_amount__lte=models.F("total")),
                                   name="refund_never_exceeds_total"),
        ]
        indexes = [models.Index(fields=["merchant", "status"])]


class OrderLine(models.Model):
    """A snapshot of what was bought, so later product edits never rewrite history."""

    merchant_order = models.ForeignKey(MerchantOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey("livestream.Offer", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="lines")
    title = models.CharField(max_length=80)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    claims = models.JSONField(default=list, blank=True)
    # The commission rule in force at checkout, copied (orders/commission.py).
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    service_fee_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))

    class Meta:
        ordering = ["pk"]


RATE = {"max_digits": 5, "decimal_places": 4}


class CommissionRule(models.Model):
    """What the platform keeps (``commission_rate``) and what the merchant's county keeps for its
    vetting and service stations (``service_fee_rate``) of the goods sold, by category and
    optionally by county, from a date. The most specific rule in force wins (orders/commission.py);
    the rates are copied onto each order line at checkout."""

    category = models.ForeignKey("catalog.Category", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"),
                                 help_text=_("Empty: every category (a sub-category inherits its parent's rule)."))
    county = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("county"), limit_choices_to={"level": "county"},
                               help_text=_("Empty: every county."))
    commission_rate = models.DecimalField(_("commission rate"), **RATE,
                                          help_text=_("A fraction of the goods: 0.0500 is 5 %."))
    service_fee_rate = models.DecimalField(_("county service fee rate"), **RATE, default=Decimal("0"))
    effective_from = models.DateTimeField(_("in force from"))
    effective_until = models.DateTimeField(_("in force until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "-pk"]
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(commission_rate__gte=0, commission_rate__lte=Decimal("0.5"),
                                                      service_fee_rate__gte=0,
                                                      service_fee_rate__lte=Decimal("0.2")),
                                   name="commission_rates_in_range"),
            models.CheckConstraint(condition=models.Q(effective_until__isnull=True)
                                   | models.Q(effective_until__gt=models.F("effective_from")),
                                   name="commission_rule_period"),
        ]

    def __str__(self):
        return f"{self.category or '*'} / {self.county or '*'}: {self.commission_rate}"


class OrderEvent(StatusEvent):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")


class MerchantOrderEvent(StatusEvent):
    merchant_order = models.ForeignKey(MerchantOrder, on_delete=models.CASCADE, related_name="events")


class Cart(models.Model):
    """A consumer's one cart. Prices shown are today's; what is charged is fixed at checkout."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey("livestream.Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("cart item")
        constraints = [
            models.UniqueConstraint(fields=["cart", "product", "offer"], nulls_distinct=False, name="cart_item_once"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_item_quantity_positive"),
        ]


class OfferPurchase(models.Model):
    """Units of one offer a buyer holds in orders that are not cancelled: the per-buyer limit's counter.

    Changed only by a conditional upsert (``INSERT … ON CONFLICT DO UPDATE … WHERE quantity + n <= limit``),
    which serialises one buyer's concurrent checkouts on this one row.
    """

    offer = models.ForeignKey("livestream.Offer", on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offer", "buyer"], name="offer_purchase_once"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="offer_purchase_not_negative"),
        ]


class PendingHold(models.Model):
    """What one buyer holds in unpaid orders, per scope: ``""`` (all of the buyer's unpaid orders and
    units), ``"p<id>"`` (units of one product's stock) and ``"o<id>"`` (units of one flash offer).

    Unpaid orders hold their units for the payment window; these counters cap what one buyer may hold
    that way (orders/services/holds.py). Raised only by the checkout's conditional upsert
    (``… DO UPDATE SET units = units + n WHERE units + n <= max_units AND orders + 1 <= max_orders``,
    which serialises one buyer's concurrent checkouts on their own rows), lowered when an order
    leaves ``pending_payment`` (paid, cancelled or expired). ``max_*`` are the caps the last
    checkout applied (the upsert compares against its own, carried in the inserted row).
    """

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=24, blank=True)
    orders = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0)
    max_orders = models.PositiveIntegerField(default=0)
    max_units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "scope"], name="pending_hold_once"),
            models.CheckConstraint(condition=models.Q(orders__gte=0, units__gte=0), name="pending_hold_not_negative"),
        ]


class Review(models.Model):
    """One review per merchant order, after delivery."""

    merchant_order = models.OneToOneField(MerchantOrder, on_delete=models.CASCADE, related_name="review")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="reviews")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.TextField(_("text"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]


class Dispute(models.Model):
    """A buyer's complaint about one merchant order, settled by the merchant or the county operator."""

    class Reason(models.TextChoices):
        NOT_RECEIVED = "not_received", _("not received")
        DAMAGED = "damaged", _("damaged")
        NOT_AS_DESCRIBED = "not_as_described", _("not as described")
        QUALITY = "quality", _("quality")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        OPEN = "open", _("awaiting the merchant")
        ACCEPTED = "accepted", _("accepted by the merchant")
        CONTESTED = "contested", _("contested by the merchant")
        ESCALATED = "escalated", _("with the county operator")
        RESOLVED = "resolved", _("resolved by the county operator")

    ACTIVE = (Status.OPEN, Status.CONTESTED, Status.ESCALATED)

    merchant_order = models.ForeignKey(MerchantOrder, on_delete=models.CASCADE, related_name="disputes")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes")
    # The merchant's county, denormalised: the operators who settle it.
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    requested_refund = models.DecimalField(_("requested refund"), max_digits=12, decimal_places=2)
    text = models.TextField(_("text"), max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    merchant_response = models.TextField(_("merchant's answer"), blank=True, max_length=2000)
    respond_by = models.DateTimeField(_("merchant answers by"))
    # When the beat task hands it to the county: the response deadline, or at once once contested.
    escalate_at = models.DateTimeField(_("escalates at"), db_index=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    decision = models.TextField(_("decision"), blank=True, max_length=2000)
    refund_amount = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.UniqueConstraint(fields=["merchant_order"], condition=models.Q(status__in=["open", "contested",
                                                                                             "escalated"]),
                                    name="one_active_dispute_per_merchant_order"),
            models.CheckConstraint(condition=models.Q(requested_refund__gte=0), name="dispute_request_not_negative"),
        ]

    def __str__(self):
        return f"#{self.pk}"


class DisputePhoto(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="disputes/%Y/%m/", storage=private_storage)

    class Meta:
        ordering = ["pk"]


class DisputeEvent(StatusEvent):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
