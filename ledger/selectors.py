"""Reads of the ledger, scoped by who asks (docs/ledger.md, "Statements and balances (API)").

Every figure is a sum of entries, computed in the database: a balance is the sum of an account's
entries, a month's money the sum of the entries of the postings made in that month
(Asia/Shanghai). A merchant reads only its own shop (the shop is the caller's, never a
parameter); an operator reads the merchants and totals of its county; an admin reads everything.

Signs: entries are debit +, credit −; what a merchant is owed, and what a revenue account earned,
is shown negated (credit → positive).
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.errors import NotFound, ValidationFailed
from merchants.models import Merchant
from orders.models import OrderLine
from regions.models import Region

from . import chart
from .models import CoopMember, Entry, LineBatch, MemberShare, Posting
from .postings import CENT, ZERO

CURRENCY = "CNY"
K = Posting.Kind
# The postings that belong to a merchant order's own money (its statement row); anything else on a
# merchant's accounts (adjustments, payouts) is shown apart, by kind.
ORDER_KINDS = (K.PAYMENT, K.REFUND, K.RELEASE)

Q_MERCHANT = Q(account__merchant__isnull=False)
Q_COMMISSION = Q(account__code=chart.COMMISSION.code)
Q_SERVICE = Q(account__county__isnull=False, account__code__endswith=":service_fees")
Q_DELIVERY = Q(account__county__isnull=False, account__code__endswith=":delivery")
Q_REFUNDS_PAYABLE = Q(account__code=chart.REFUNDS_PAYABLE.code)
Q_GOODS = Q_MERCHANT | Q_COMMISSION | Q_SERVICE


def _sum(condition: Q | None = None, *, negate: bool = False):
    total = Sum("amount", filter=condition) if condition is not None else Sum("amount")
    return -total if negate else total


def _money(value) -> Decimal:
    """A sum as cents (quantized: SQLite, the embedded default, sums decimals as floats; never "-0.00")."""
    return Decimal(value if value is not None else ZERO).quantize(CENT) + ZERO


# --- who may read which shop -----------------------------------------------------------------------

def merchant_of(*, user) -> Merchant:
    """The signed-in merchant's own shop (404 for a merchant account without one)."""
    merchant = Merchant.objects.select_related("county").filter(user_id=user.pk).first()
    if merchant is None:
        raise NotFound()
    return merchant


def merchant_for_staff(*, user, merchant_id: int) -> Merchant:
    """A shop an operator (of its county) or an admin may read; anything else is not there."""
    queryset = Merchant.objects.select_related("county").filter(pk=merchant_id)
    if not user.is_platform_admin:
        if user.role != Role.OPERATOR:
            raise NotFound()
        queryset = queryset.filter(county_id=user.county_id)
    merchant = queryset.first()
    if merchant is None:
        raise NotFound()
    return merchant


def county_for_staff(*, user, county_id: int | None) -> Region:
    """An operator's own county (``county_id``, if given, must be it); an admin names one."""
    if user.is_platform_admin:
        if county_id is None:
            raise ValidationFailed(fields={"county": [_("Name the county.")]})
        region = Region.objects.filter(pk=county_id, level=Region.Level.COUNTY).first()
    elif user.role == Role.OPERATOR and county_id in (None, user.county_id):
        region = Region.objects.filter(pk=user.county_id).first()
    else:
        region = None
    if region is None:
        raise NotFound()
    return region


# --- months ------------------------------------------------------------------------------------------

MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@dataclass(frozen=True)
class Month:
    label: str
    start: datetime.datetime  # aware, Asia/Shanghai midnight of the 1st
    end: datetime.datetime  # the next month's start


def month_parse(value: str | None, *, field_name: str = "month") -> Month:
    """``YYYY-MM`` in the platform's time zone; not a month, or a month after the current one: 400."""
    match = MONTH_RE.match(value or "")
    year, month = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= month <= 12 or year < 2000:
        raise ValidationFailed(_("Give the month as YYYY-MM."),
                               fields={field_name: [_("Give the month as YYYY-MM.")]})
    today = timezone.localdate()
    if (year, month) > (today.year, today.month):
        raise ValidationFailed(_("That month has not begun yet."),
                               fields={field_name: [_("That month has not begun yet.")]})
    tz = timezone.get_default_timezone()
    start = datetime.datetime(year, month, 1, tzinfo=tz)
    end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return Month(label=f"{year:04d}-{month:02d}", start=start, end=end)


def _in(month: Month) -> Q:
    return Q(posting__created_at__gte=month.start, posting__created_at__lt=month.end)


# --- balances and entries ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    pending: Decimal
    available: Decimal
    paid_out: Decimal
    currency: str = CURRENCY

    @property
    def negative(self) -> bool:
        return self.available < 0


def merchant_balance(*, merchant: Merchant) -> Balance:
    """What the shop is owed (pending, available) and what was paid out to it so far."""
    pending, available = chart.merchant_pending(merchant.pk).code, chart.merchant_available(merchant.pk).code
    sums = Entry.objects.filter(account__code__in=[pending, available]).aggregate(
        pending=_sum(Q(account__code=pending), negate=True), available=_sum(Q(account__code=available), negate=True))
    # A payout is paid when its ``payout_paid`` posting clears the money in flight (Dr in flight).
    paid = Entry.objects.filter(posting__kind=K.PAYOUT_PAID, posting__merchant_id=merchant.pk,
                                account__code=chart.PAYOUTS_IN_FLIGHT.code, amount__gt=0).aggregate(
        total=Sum("amount"))["total"]
    return Balance(pending=_money(sums["pending"]), available=_money(sums["available"]), paid_out=_money(paid))


ENTRY_ACCOUNTS = ("pending", "available")


def merchant_entries(*, merchant: Merchant, account: str | None = None, date_from: datetime.date | None = None,
                     date_to: datetime.date | None = None, kind: str | None = None) -> QuerySet[Entry]:
    """The entries on the shop's pending and/or available account, newest first; ``date_from`` and
    ``date_to`` are days (Asia/Shanghai), both included."""
    codes = {"pending": chart.merchant_pending(merchant.pk).code,
             "available": chart.merchant_available(merchant.pk).code}
    queryset = Entry.objects.filter(account__code__in=[codes[account]] if account else list(codes.values()))
    tz = timezone.get_default_timezone()
    if date_from:
        queryset = queryset.filter(posting__created_at__gte=datetime.datetime.combine(date_from, datetime.time(),
                                                                                      tzinfo=tz))
    if date_to and date_to < datetime.date.max:  # the last day there is ends after every entry: no bound
        queryset = queryset.filter(posting__created_at__lt=datetime.datetime.combine(
            date_to + datetime.timedelta(days=1), datetime.time(), tzinfo=tz))
    if kind:
        queryset = queryset.filter(posting__kind=kind)
    return queryset.select_related("posting", "account").order_by("-posting__created_at", "-posting_id", "-pk")


# --- statements ------------------------------------------------------------------------------------------

@dataclass
class StatementRow:
    merchant_order_id: int
    order_id: int
    goods: Decimal
    delivery: Decimal
    commission: Decimal
    service_fee: Decimal
    refunds: Decimal
    net: Decimal
    members: dict | None = None  # member id (None: the cooperative's own) -> Decimal


@dataclass
class Statement:
    merchant: Merchant
    month: Month
    rows: list[StatementRow]
    totals: dict[str, Decimal]
    other: dict[str, Decimal]  # movements without a merchant order, by posting kind (adjustment, payout_…)
    opening: Decimal  # pending + available owed to the shop when the month began
    closing: Decimal  # … and when it ended (or now, for the current month)
    members: list[dict] | None = None  # per-member totals, for a cooperative
    currency: str = CURRENCY


ROW_FIELDS = ("goods", "delivery", "commission", "service_fee", "refunds", "net")


def _order_flows() -> dict:
    """The columns of a statement row, as sums over one merchant order's entries.

    goods: what the payment credited to the shop, the commission and the service fee; commission and
    service fee: what the payment credited them less what refunds took back; refunds: the part of
    refunds taken from the goods (shop's part + commission and service fee back); delivery: the
    county's delivery income of the order (shown, not the shop's money); net: the change of what
    the shop is owed. So goods − commission − service fee − refunds = net, exactly."""
    return {"goods": _sum(Q(posting__kind=K.PAYMENT) & Q_GOODS, negate=True),
            "delivery": _sum(Q_DELIVERY, negate=True),
            "commission": _sum(Q_COMMISSION, negate=True),
            "service_fee": _sum(Q_SERVICE, negate=True),
            "refunds": _sum(Q(posting__kind=K.REFUND) & Q_GOODS),
            "net": _sum(Q_MERCHANT, negate=True)}


def _owed(merchant: Merchant, *, before: datetime.datetime) -> Decimal:
    return _money(Entry.objects.filter(account__merchant_id=merchant.pk, posting__created_at__lt=before)
                  .aggregate(total=_sum(negate=True))["total"])


def merchant_statement(*, merchant: Merchant, month: Month) -> Statement:
    """One month of the shop's money: a row per merchant order with ledger activity in the month."""
    flows = (Entry.objects.filter(_in(month), merchant_order__merchant_id=merchant.pk, posting__kind__in=ORDER_KINDS)
             .values("merchant_order_id", "merchant_order__order_id").annotate(**_order_flows())
             .order_by("merchant_order_id"))
    rows = [StatementRow(merchant_order_id=f["merchant_order_id"], order_id=f["merchant_order__order_id"],
                         **{name: _money(f[name]) for name in ROW_FIELDS}) for f in flows]
    totals = {name: sum((getattr(row, name) for row in rows), ZERO) for name in ROW_FIELDS}
    other = {kind: _money(total) for kind, total in
             Entry.objects.filter(_in(month), account__merchant_id=merchant.pk)
             .exclude(posting__kind__in=ORDER_KINDS).values("posting__kind")
             .annotate(total=_sum(negate=True)).order_by("posting__kind").values_list("posting__kind", "total")}
    statement = Statement(merchant=merchant, month=month, rows=rows, totals=totals, other=other,
                          opening=_owed(merchant, before=month.start),
                          closing=_owed(merchant, before=min(month.end, timezone.now())))
    if merchant.kind == Merchant.Kind.COOPERATIVE:
        splits = _member_splits(merchant=merchant, nets={row.merchant_order_id: row.net for row in rows})
        per_member: dict = defaultdict(lambda: ZERO)
        for row in rows:
            row.members = splits.get(row.merchant_order_id, {})
            for member_id, amount in row.members.items():
                per_member[member_id] += amount
        statement.members = member_rows(merchant=merchant, amounts=per_member)
    return statement


def member_rows(*, merchant: Merchant, amounts: dict) -> list[dict]:
    """``{member id | None: amount}`` as rows with the members' names (None: the cooperative's own
    money, last)."""
    names = dict(CoopMember.objects.filter(merchant_id=merchant.pk, pk__in=[k for k in amounts if k is not None])
                 .values_list("pk", "name"))
    rows = [{"member": member_id, "name": names.get(member_id, ""), "amount": amounts[member_id]}
            for member_id in sorted(k for k in amounts if k is not None)]
    if None in amounts:
        rows.append({"member": None, "name": "", "amount": amounts[None]})
    return rows


# --- the members' split of a cooperative's money ---------------------------------------------------------------

def _order_nets(*, merchant: Merchant, merchant_order_ids) -> dict[int, Decimal]:
    """What each merchant order brought the shop over its whole life (payment, refunds, release)."""
    return {mo: _money(net) for mo, net in
            Entry.objects.filter(merchant_order_id__in=list(merchant_order_ids), merchant_order__merchant_id=merchant.pk,
                                 account__merchant_id=merchant.pk, posting__kind__in=ORDER_KINDS)
            .values("merchant_order_id").annotate(net=_sum(negate=True)).values_list("merchant_order_id", "net")}


def member_breakdown(*, merchant: Merchant, merchant_order_ids) -> dict[int | None, Decimal]:
    """The shop's net money of these merchant orders (payments less commission, service fee and
    refunds, over their whole life), split among the cooperative's members by their shares;
    ``None`` is the cooperative's own part (lines without shares). The amounts sum to the orders'
    net exactly. For the payouts app: what each household is owed of these orders."""
    totals: dict = defaultdict(lambda: ZERO)
    for split in _member_splits(merchant=merchant,
                                nets=_order_nets(merchant=merchant, merchant_order_ids=merchant_order_ids)).values():
        for member_id, amount in split.items():
            totals[member_id] += amount
    return dict(totals)


@dataclass
class _Shares:
    by_product: dict = field(default_factory=lambda: defaultdict(dict))  # product id -> {member id: percent}
    by_batch: dict = field(default_factory=lambda: defaultdict(dict))

    def of(self, line: OrderLine, batch_id: int | None) -> dict:
        if batch_id is not None and self.by_batch.get(batch_id):
            return self.by_batch[batch_id]
        return self.by_product.get(line.product_id) or {None: Decimal("100")}


def _member_splits(*, merchant: Merchant, nets: dict[int, Decimal]) -> dict[int, dict]:
    """Each merchant order's ``net`` split among members: per line, the line's net (line total less
    its commission and service fee at the line's rates) weighs its part of the order's net (refunds
    are so allocated pro rata), and the part is split by the line's shares (its batch's, else its
    product's, else the cooperative's own). Exact fractions until the end; then each member's part
    of the order is rounded to the cent and the remainder goes to the largest part, so the parts
    sum to the order's net exactly."""
    order_ids = [mo for mo, net in nets.items()]
    if not order_ids:
        return {}
    lines = list(OrderLine.objects.filter(merchant_order_id__in=order_ids, merchant_order__merchant_id=merchant.pk)
                 .only("pk", "merchant_order_id", "product_id", "line_total", "commission_rate", "service_fee_rate")
                 .order_by("pk"))
    batches = dict(LineBatch.objects.filter(line_id__in=[line.pk for line in lines]).values_list("line_id",
                                                                                                "batch_id"))
    shares = _Shares()
    for share in MemberShare.objects.filter(member__merchant_id=merchant.pk).filter(
            Q(product_id__in={line.product_id for line in lines}) | Q(batch_id__in=set(batches.values()))):
        if share.batch_id is not None:
            shares.by_batch[share.batch_id][share.member_id] = share.percent
        else:
            shares.by_product[share.product_id][share.member_id] = share.percent
    by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_order[line.merchant_order_id].append(line)
    return {mo: _split_order(net=net, lines=by_order.get(mo, []), batches=batches, shares=shares)
            for mo, net in nets.items()}


def _line_weight(line: OrderLine) -> Decimal:
    commission = (line.line_total * line.commission_rate).quantize(CENT)
    service_fee = (line.line_total * line.service_fee_rate).quantize(CENT)
    return line.line_total - commission - service_fee


def _split_order(*, net: Decimal, lines: list[OrderLine], batches: dict, shares: _Shares) -> dict:
    weights = [max(_line_weight(line), ZERO) for line in lines]
    if not sum(weights, ZERO):
        weights = [max(line.line_total, ZERO) for line in lines]
    whole = sum(weights, ZERO)
    if not whole:
        return {None: net}
    exact: dict = defaultdict(Fraction)
    for line, weight in zip(lines, weights, strict=True):
        part = Fraction(net) * Fraction(weight) / Fraction(whole)
        for member_id, percent in shares.of(line, batches.get(line.pk)).items():
            exact[member_id] += part * Fraction(percent) / 100
    return allocate_cents(net, exact)


def allocate_cents(total: Decimal, exact: dict) -> dict:
    """Round each exact part to the cent (half away from zero) and give what rounding left over to
    the largest part (by size; ties: the lowest member id, the cooperative last), so the parts sum
    to ``total`` exactly."""
    rounded = {key: _round_cents(value) for key, value in exact.items()}
    remainder = total - sum(rounded.values(), ZERO)
    if remainder and rounded:
        largest = min(exact, key=lambda key: (-abs(exact[key]), key is None, key or 0))
        rounded[largest] += remainder
    return rounded


def _round_cents(value: Fraction) -> Decimal:
    cents_, rest = divmod(abs(value) * 100, 1)
    cents_ = int(cents_) + (1 if rest >= Fraction(1, 2) else 0)
    return (Decimal(cents_ if value >= 0 else -cents_) / 100).quantize(CENT)


# --- members and their shares ---------------------------------------------------------------------------------

def members_of(*, merchant: Merchant, active: bool | None = None) -> QuerySet[CoopMember]:
    queryset = CoopMember.objects.filter(merchant_id=merchant.pk)
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("pk")


def member_get(*, merchant: Merchant, member_id: int) -> CoopMember:
    member = members_of(merchant=merchant).filter(pk=member_id).first()
    if member is None:
        raise NotFound()
    return member


def shares_of(*, product_id: int | None = None, batch_id: int | None = None) -> QuerySet[MemberShare]:
    queryset = MemberShare.objects.select_related("member")
    queryset = queryset.filter(product_id=product_id) if product_id is not None else queryset.filter(batch_id=batch_id)
    return queryset.order_by("member_id")


# --- county and platform totals ----------------------------------------------------------------------------------

def _owed_totals(queryset: QuerySet[Entry], *, before: datetime.datetime) -> dict[str, Decimal]:
    sums = queryset.filter(posting__created_at__lt=before).aggregate(
        pending=_sum(Q(account__code__endswith=":pending"), negate=True),
        available=_sum(Q(account__code__endswith=":available"), negate=True))
    return {"merchants_pending": _money(sums["pending"]), "merchants_available": _money(sums["available"])}


def _month_flows(queryset: QuerySet[Entry]) -> dict[str, Decimal]:
    sums = queryset.aggregate(goods=_sum(Q(posting__kind=K.PAYMENT) & Q_GOODS, negate=True),
                              commission=_sum(Q_COMMISSION, negate=True),
                              service_fees=_sum(Q_SERVICE, negate=True),
                              delivery=_sum(Q_DELIVERY, negate=True),
                              refunds=_sum(Q(posting__kind=K.REFUND) & Q_REFUNDS_PAYABLE, negate=True))
    return {name: _money(value) for name, value in sums.items()}


def county_totals(*, county: Region, month: Month) -> dict:
    """A county's month: goods its shops sold, the commission and its service fees and delivery
    income (net of refunds), what was refunded to buyers; and what its shops were owed at the
    month's end (or now)."""
    flows = _month_flows(Entry.objects.filter(_in(month), merchant_order__merchant__county_id=county.pk))
    owed = _owed_totals(Entry.objects.filter(account__merchant__county_id=county.pk),
                        before=min(month.end, timezone.now()))
    return {"county": county.pk, "county_name": county.name, "month": month.label, **flows, **owed,
            "currency": CURRENCY}


def _balance_at(spec: chart.AccountSpec, *, before: datetime.datetime, negate: bool) -> Decimal:
    total = Entry.objects.filter(account__code=spec.code, posting__created_at__lt=before).aggregate(
        total=_sum(negate=negate))["total"]
    return _money(total)


def platform_totals(*, month: Month) -> dict:
    """The platform's month: commission (net of refunds), provider fees, refunds booked; the refunds
    still owed to buyers and the payouts in flight at the month's end (or now); a summary per county
    with activity."""
    end = min(month.end, timezone.now())
    month_entries = Entry.objects.filter(_in(month))
    flows = _month_flows(month_entries.filter(merchant_order__isnull=False))
    provider_fees = _money(month_entries.filter(account__code=chart.PROVIDER_FEES.code).aggregate(
        total=Sum("amount"))["total"])
    counties = (month_entries.filter(merchant_order__isnull=False)
                .values("merchant_order__merchant__county_id", "merchant_order__merchant__county__name")
                .annotate(goods=_sum(Q(posting__kind=K.PAYMENT) & Q_GOODS, negate=True),
                          commission=_sum(Q_COMMISSION, negate=True), service_fees=_sum(Q_SERVICE, negate=True),
                          delivery=_sum(Q_DELIVERY, negate=True),
                          refunds=_sum(Q(posting__kind=K.REFUND) & Q_REFUNDS_PAYABLE, negate=True))
                .order_by("merchant_order__merchant__county_id"))
    per_county = [{"county": row["merchant_order__merchant__county_id"],
                   "county_name": row["merchant_order__merchant__county__name"],
                   **{name: _money(row[name]) for name in ("goods", "commission", "service_fees", "delivery",
                                                           "refunds")}} for row in counties]
    return {"month": month.label, "goods": flows["goods"], "commission": flows["commission"],
            "provider_fees": provider_fees, "refunds": flows["refunds"],
            "refunds_payable": _balance_at(chart.REFUNDS_PAYABLE, before=end, negate=True),
            "payouts_in_flight": _balance_at(chart.PAYOUTS_IN_FLIGHT, before=end, negate=True),
            **_owed_totals(Entry.objects.filter(account__merchant__isnull=False), before=end),
            "counties": per_county, "currency": CURRENCY}
