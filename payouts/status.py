"""The payout and payout-account workflows (core/transitions.py)."""

from core.transitions import Workflow

from .models import Payout, PayoutAccount, PayoutAccountEvent, PayoutEvent

P = Payout.Status
PAYOUT_TRANSITIONS: dict[str, set[str]] = {
    # pending: written, its money not yet moved; sent: the money is in flight (posted) and the
    # provider is (being) asked to transfer it; the provider's result decides paid or failed.
    P.PENDING: {P.SENT},
    P.SENT: {P.PAID, P.FAILED},
    P.PAID: set(),
    P.FAILED: set(),
}
PAYOUT_WORKFLOW = Workflow(Payout, PAYOUT_TRANSITIONS, events=PayoutEvent,
                           timestamps={P.SENT: "sent_at", P.PAID: "completed_at", P.FAILED: "completed_at"})

A = PayoutAccount.Status
ACCOUNT_TRANSITIONS: dict[str, set[str]] = {
    A.UNVERIFIED: {A.VERIFIED, A.REJECTED, A.SUPERSEDED},
    A.VERIFIED: {A.SUPERSEDED},
    A.REJECTED: set(),
    A.SUPERSEDED: set(),
}
ACCOUNT_WORKFLOW = Workflow(PayoutAccount, ACCOUNT_TRANSITIONS, events=PayoutAccountEvent,
                            timestamps={A.VERIFIED: "reviewed_at", A.REJECTED: "reviewed_at"})
