"""Reconciliation: a provider's settlement file for one day, matched against the ledger.

Every provider transaction must have its posting, with the same amount (and, for payments, the
same fee), and every posting that moved the provider's funds that day must have its provider
transaction:

- a payment row (``out_trade_no`` = our payment id) ↔ the posting ``payment:<id>``: its debit of
  ``cash:<provider>`` is the amount, its ``platform:provider_fees`` debit the fee;
- a refund row (``out_refund_no`` = our refund id) ↔ the posting ``refund_paid:<id>``: its credit
  of ``cash:<provider>`` is the amount.

What disagrees becomes a ``Mismatch`` for an admin (admin → Ledger → Reconciliation runs):
missing on either side, amount, fee or currency different. Nothing in the ledger is changed by a
reconciliation: a real difference is corrected by an adjustment, after a person looked at it.

Transactions near midnight can fall on different days at the provider and in the ledger; a later
run that finds a transaction an earlier run reported missing marks that mismatch resolved.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payments.providers import get_provider
from payments.settlement_file import parse_settlement_file

from . import chart
from .models import Entry, Mismatch, Posting, ReconciliationRun

PROVIDER_ZONE = ZoneInfo("Asia/Shanghai")  # the providers' day
ZERO = Decimal("0.00")
K = Mismatch.Kind


def _key(row) -> str:
    return f"payment:{row.out_trade_no}" if row.type == "payment" else f"refund_paid:{row.out_refund_no}"


def _ledger_side(*, provider: str, keys: set[str], day: date) -> dict[str, dict]:
    """For each posting of these keys, or that moved the provider's funds that day: its cash
    amount (money in +, out −, as the provider's file shows it unsigned) and its provider fee."""
    start = datetime.combine(day, time.min, tzinfo=PROVIDER_ZONE)
    cash, fees = chart.provider_cash(provider).code, chart.PROVIDER_FEES.code
    postings = Posting.objects.filter(Q(key__in=keys) | Q(
        kind__in=(Posting.Kind.PAYMENT, Posting.Kind.REFUND_PAID), created_at__gte=start,
        created_at__lt=start + timedelta(days=1), entries__account__code=cash)).distinct()
    side: dict[str, dict] = defaultdict(lambda: {"amount": ZERO, "fee": ZERO})
    for key, code, amount in (Entry.objects.filter(posting__in=postings, account__code__in=(cash, fees))
                              .values_list("posting__key", "account__code", "amount")):
        if code == fees:
            side[key]["fee"] += amount
        elif key.startswith("payment:"):
            side[key]["amount"] += amount if amount > 0 else ZERO  # the fee's credit is counted as fee
        else:
            side[key]["amount"] -= amount
    return dict(side)


def _disagreement(row, seen) -> tuple[str | None, str]:
    if seen is None:
        return K.MISSING_IN_LEDGER, ""
    if row.currency != "CNY":
        return K.CURRENCY_DIFFERS, row.currency
    if row.amount != seen["amount"]:
        return K.AMOUNT_DIFFERS, ""
    if row.fee != seen["fee"]:
        return K.FEE_DIFFERS, f"fee: provider {row.fee}, ledger {seen['fee']}"
    return None, ""


@transaction.atomic
def reconcile(*, provider: str, day: date, data: bytes, file_name: str = "", actor=None) -> ReconciliationRun:
    """Match one day's settlement file (``data``, the documented CSV) against the ledger. A file that
    is not exactly the format is refused whole (``SettlementFileInvalid``, 400), and nothing is stored."""
    rows = parse_settlement_file(data)
    by_key = {_key(row): row for row in rows}
    ledger = _ledger_side(provider=provider, keys=set(by_key), day=day)
    run = ReconciliationRun.objects.create(provider=provider, day=day, file_name=file_name[:200], created_by=actor,
                                           provider_rows=len(rows))
    mismatches = []
    for key, row in by_key.items():
        seen = ledger.get(key)
        kind, note = _disagreement(row, seen)
        if kind:
            mismatches.append(Mismatch(run=run, kind=kind, key=key, transaction_id=row.transaction_id,
                                       provider_amount=row.amount, ledger_amount=seen and seen["amount"], note=note))
    for key, seen in ledger.items():
        if key not in by_key:
            mismatches.append(Mismatch(run=run, kind=K.MISSING_AT_PROVIDER, key=key, ledger_amount=seen["amount"]))
    Mismatch.objects.bulk_create(mismatches)
    # A transaction found now that an earlier run missed on one side (a midnight) is resolved there.
    Mismatch.objects.filter(run__provider=provider, resolved_at__isnull=True,
                            kind__in=(K.MISSING_IN_LEDGER, K.MISSING_AT_PROVIDER),
                            key__in=[key for key in by_key if key in ledger]).exclude(run=run).update(
        resolved_at=timezone.now(), note="found by a later run")
    sign = {"payment": 1, "refund": -1}
    run.provider_total = sum((sign[row.type] * (row.amount - row.fee) for row in rows), ZERO)
    run.ledger_total = sum(((seen["amount"] - seen["fee"]) if key.startswith("payment:") else -seen["amount"]
                            for key, seen in ledger.items()), ZERO)
    run.mismatched, run.matched = len(mismatches), len(rows) - sum(
        1 for m in mismatches if m.kind != K.MISSING_AT_PROVIDER)
    run.save(update_fields=["provider_total", "ledger_total", "mismatched", "matched"])
    return run


def reconcile_from_provider(*, provider: str, day: date, actor=None) -> ReconciliationRun:
    """Fetch the day's file from the provider (its bill API; the sandbox writes its own) and match it."""
    data = get_provider(provider).settlement_file(day)
    return reconcile(provider=provider, day=day, data=data, file_name=f"{provider}-{day.isoformat()}.csv", actor=actor)


def reconcile_yesterday() -> int:
    """The daily beat task: every provider that offers its settlement file, for yesterday (their clock)."""
    day = timezone.now().astimezone(PROVIDER_ZONE).date() - timedelta(days=1)
    done = 0
    for name in settings.PAYMENT_PROVIDERS:
        if callable(getattr(get_provider(name), "settlement_file", None)):
            reconcile_from_provider(provider=name, day=day)
            done += 1
    return done
