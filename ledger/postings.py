"""Writing postings: the one way money enters the ledger.

``post`` writes one posting and its entries in the caller's transaction, in three statements (the
accounts' ids, the posting, the entries), and only once per ``key``: the posting's INSERT is
``ON CONFLICT (key) DO NOTHING``, so a replayed webhook, callback or task run posts nothing the
second time, without a savepoint. The entries are checked here (two places, a zero sum) and again
by the database at commit (the deferred trigger of migration 0001).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from .chart import AccountSpec, merchant_available
from .models import Account, Entry, Posting

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Unbalanced(ValueError):
    """A programming error: a posting's legs do not sum to zero, or an amount has more than two places."""


@dataclass(frozen=True)
class Leg:
    account: AccountSpec
    amount: Decimal  # debit +, credit −
    merchant_order_id: int | None = None


def account_ids(specs: Iterable[AccountSpec]) -> dict[str, int]:
    """The ids of these accounts, creating the missing ones (two parallel creators: both see one row)."""
    specs = {spec.code: spec for spec in specs}
    ids = dict(Account.objects.filter(code__in=specs).values_list("code", "pk"))
    missing = [spec for code, spec in specs.items() if code not in ids]
    if missing:
        Account.objects.bulk_create(
            [Account(code=s.code, kind=s.kind, name=s.name, merchant_id=s.merchant_id, county_id=s.county_id)
             for s in missing], ignore_conflicts=True)
        ids.update(Account.objects.filter(code__in=[s.code for s in missing]).values_list("code", "pk"))
    return ids


_TABLES = {"posting": Posting._meta.db_table, "entry": Entry._meta.db_table}
_INSERT_POSTING = """
INSERT INTO {posting} (key, kind, memo, merchant_id, actor_id, created_at) VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (key) DO NOTHING RETURNING id
""".format(**_TABLES)
# PostgreSQL: the posting and its entries in one statement (a replayed key inserts neither); the
# deferred trigger still checks the sum at commit.
_INSERT_POSTING_AND_ENTRIES = """
WITH posting AS ({insert}), entries AS (
  INSERT INTO {entry} (posting_id, account_id, amount, merchant_order_id)
  SELECT posting.id, t.account, t.amount, t.mo
  FROM posting, unnest(%s::bigint[], %s::numeric[], %s::bigint[]) WITH ORDINALITY AS t(account, amount, mo, n)
  ORDER BY t.n
  RETURNING 1
)
SELECT id FROM posting
""".format(insert=_INSERT_POSTING.strip(), **_TABLES)


def post(*, key: str, kind: str, legs: Iterable[Leg], memo: str = "", merchant_id: int | None = None,
         actor=None, at=None) -> Posting | None:
    """Write the posting ``key`` with ``legs`` (zero legs are dropped); None if ``key`` was posted
    before (or nothing is left to post). Raises ``Unbalanced`` for legs that do not sum to zero.

    Two statements on PostgreSQL (the accounts' ids; the posting with its entries), three elsewhere."""
    legs = [leg for leg in legs if leg.amount]
    for leg in legs:
        if leg.amount != leg.amount.quantize(CENT):
            raise Unbalanced(f"{key}: {leg.account.code} {leg.amount} has more than two places")
    if sum((leg.amount for leg in legs), ZERO) != ZERO:
        raise Unbalanced(f"{key}: legs sum to {sum(leg.amount for leg in legs)}")
    if not legs:
        return None
    at = at or timezone.now()
    ids = account_ids(leg.account for leg in legs)
    actor_id = getattr(actor, "pk", actor)
    head = [key, kind, memo[:300], merchant_id, actor_id, connection.ops.adapt_datetimefield_value(at)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_INSERT_POSTING_AND_ENTRIES, [*head, [ids[leg.account.code] for leg in legs],
                                                         [leg.amount for leg in legs],
                                                         [leg.merchant_order_id for leg in legs]])
        else:
            cursor.execute(_INSERT_POSTING, head)
        row = cursor.fetchone()
    if row is None:
        return None
    posting = Posting(pk=row[0], key=key, kind=kind, memo=memo[:300], merchant_id=merchant_id, actor_id=actor_id,
                      created_at=at)
    posting._state.adding, posting._state.db = False, connection.alias
    if connection.vendor != "postgresql":
        Entry.objects.bulk_create([Entry(posting_id=posting.pk, account_id=ids[leg.account.code], amount=leg.amount,
                                         merchant_order_id=leg.merchant_order_id) for leg in legs])
    return posting


def posted(key: str) -> bool:
    return Posting.objects.filter(key=key).exists()


def balance(spec: AccountSpec, **filters) -> Decimal:
    """The sum of an account's entries (debit +), optionally of one merchant order's."""
    total = Entry.objects.filter(account__code=spec.code, **filters).aggregate(total=Sum("amount"))["total"]
    # quantized: SQLite (the embedded default) sums decimals as floats
    return ZERO if total is None else Decimal(total).quantize(CENT)


def merchant_lock(merchant_id: int) -> Account:
    """Lock the merchant's available account: everything that moves money into or out of it (a
    release, a refund after release, a payout, an adjustment) holds this lock, so its sum cannot
    change under a payout that reads it. A payment only credits ``pending`` and takes no lock, so a
    shop selling thousands of boxes a minute has no hot row."""
    spec = merchant_available(merchant_id)
    account_ids([spec])
    return Account.objects.select_for_update().get(code=spec.code)
