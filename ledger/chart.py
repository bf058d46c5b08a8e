"""The chart of accounts: every account a posting may name, by code (docs/ledger.md).

Signs: an entry's amount is a debit when positive, a credit when negative. Assets and expenses
normally have a positive balance, liabilities and revenue a negative one; what a merchant is owed
is shown as the negation of its (liability) accounts' balance.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Account

K = Account.Kind


@dataclass(frozen=True)
class AccountSpec:
    code: str
    kind: str
    name: str
    merchant_id: int | None = None
    county_id: int | None = None


def provider_cash(provider: str) -> AccountSpec:
    """Buyers' money held at a payment provider (a payment's debit, a refund's credit)."""
    return AccountSpec(f"cash:{provider}", K.ASSET, f"funds at payment provider {provider}")


def payout_cash(provider: str) -> AccountSpec:
    """The platform's account that payouts are drawn from, through a payout provider."""
    return AccountSpec(f"payout_cash:{provider}", K.ASSET, f"payout funds at {provider}")


def merchant_pending(merchant_id: int) -> AccountSpec:
    return AccountSpec(f"merchant:{merchant_id}:pending", K.LIABILITY, f"merchant {merchant_id}: pending",
                       merchant_id=merchant_id)


def merchant_available(merchant_id: int) -> AccountSpec:
    return AccountSpec(f"merchant:{merchant_id}:available", K.LIABILITY, f"merchant {merchant_id}: available",
                       merchant_id=merchant_id)


def county_service_fees(county_id: int) -> AccountSpec:
    return AccountSpec(f"county:{county_id}:service_fees", K.REVENUE, f"county {county_id}: service fees",
                       county_id=county_id)


def county_delivery(county_id: int) -> AccountSpec:
    return AccountSpec(f"county:{county_id}:delivery", K.REVENUE, f"county {county_id}: delivery income",
                       county_id=county_id)


COMMISSION = AccountSpec("platform:commission", K.REVENUE, "platform commission")
PROVIDER_FEES = AccountSpec("platform:provider_fees", K.EXPENSE, "payment provider fees")
REFUNDS_PAYABLE = AccountSpec("platform:refunds_payable", K.LIABILITY, "refunds owed to buyers")
PAYOUTS_IN_FLIGHT = AccountSpec("platform:payouts_in_flight", K.LIABILITY, "payouts sent, not yet confirmed")
ADJUSTMENTS = AccountSpec("platform:adjustments", K.EXPENSE, "manual adjustments")
