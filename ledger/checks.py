"""The ledger's invariants, checked over the whole ledger (``manage.py ledger_check``; the tests
call it after every money scenario).

1. every posting's entries sum to zero (the database refuses an unbalanced posting at commit;
   this finds one written around it);
2. all entries together sum to zero;
3. no settlement's recorded refunds exceed what it was paid;
4. every merchant order that has a settlement has its payment posting.

One pass over the entries, grouped by posting, in the database: over 1,000,000 entries it takes
seconds (bench/ledger.py, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from orders.commission import cents

from .models import Entry, Posting, Settlement

HALF_CENT = Decimal("0.005")


@dataclass
class LedgerReport:
    entries: int = 0
    postings: int = 0
    total: Decimal = Decimal("0.00")
    unbalanced: list[tuple[int, Decimal]] = field(default_factory=list)
    over_refunded: list[int] = field(default_factory=list)
    unposted: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def ledger_check(*, limit: int = 20) -> LedgerReport:
    report = LedgerReport()
    totals = Entry.objects.aggregate(n=Count("pk"), total=Sum("amount"), postings=Count("posting_id", distinct=True))
    report.entries, report.postings = totals["n"], totals["postings"]
    report.total = cents(totals["total"] or Decimal("0.00")) or Decimal("0.00")  # never "-0.00"
    # Compared with half a cent, not 0: SQLite (the embedded default) sums decimals as floats.
    report.unbalanced = [(posting_id, cents(total)) for posting_id, total in Entry.objects.values("posting_id")
                         .annotate(total=Sum("amount")).filter(Q(total__gte=HALF_CENT) | Q(total__lte=-HALF_CENT))
                         .order_by("posting_id").values_list("posting_id", "total")[:limit]]
    report.over_refunded = list(Settlement.objects.filter(goods_refunded__gt=F("goods"))
                                .values_list("merchant_order_id", flat=True)[:limit]) + list(
        Settlement.objects.filter(delivery_refunded__gt=F("delivery")).values_list("merchant_order_id", flat=True)[:limit])
    paid = Entry.objects.filter(merchant_order_id=OuterRef("merchant_order_id"), posting__kind=Posting.Kind.PAYMENT)
    report.unposted = list(Settlement.objects.exclude(Exists(paid)).values_list("merchant_order_id", flat=True)[:limit])
    if report.total != 0:
        report.problems.append(f"the entries sum to {report.total}, not 0")
    for posting_id, total in report.unbalanced:
        report.problems.append(f"posting {posting_id} sums to {total}")
    for merchant_order_id in report.over_refunded:
        report.problems.append(f"merchant order {merchant_order_id} has more refunded than was paid")
    for merchant_order_id in report.unposted:
        report.problems.append(f"merchant order {merchant_order_id} has a settlement but no payment posting")
    return report
