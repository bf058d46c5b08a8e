"""The payment and refund workflows (core/transitions.py)."""

from core.transitions import Workflow

from .models import Payment, PaymentEvent, Refund, RefundEvent, SandboxTransaction

P = Payment.Status
PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    # A notice decides: paid; failed; flagged (its amount or currency disagreed: a person looks);
    # refunded (paid after the order was closed: all of it goes back).
    P.PENDING: {P.SUCCEEDED, P.FAILED, P.FLAGGED, P.REFUNDED},
    # A success may follow a failure notice (the buyer tried again at the provider).
    P.FAILED: {P.SUCCEEDED, P.FLAGGED, P.REFUNDED},
    P.SUCCEEDED: set(),
    P.FLAGGED: set(),
    P.REFUNDED: set(),
}
PAYMENT_WORKFLOW = Workflow(Payment, PAYMENT_TRANSITIONS, events=PaymentEvent,
                            timestamps={P.SUCCEEDED: "succeeded_at", P.REFUNDED: "succeeded_at"})

R = Refund.Status
REFUND_TRANSITIONS: dict[str, set[str]] = {R.PENDING: {R.SUCCEEDED, R.FAILED}, R.SUCCEEDED: set(), R.FAILED: set()}
REFUND_WORKFLOW = Workflow(Refund, REFUND_TRANSITIONS, events=RefundEvent, timestamps={R.SUCCEEDED: "completed_at"})

S = SandboxTransaction.Status
# The sandbox provider's own trades (its books, not ours: payments/providers/sandbox.py): opened
# pending, then paid or failed; a failed trade may still be paid (the buyer tried again); a paid one
# stays paid. Its refunds are made succeeded. No audit rows: a provider's books are its business.
SANDBOX_TRADE_TRANSITIONS: dict[str, set[str]] = {S.PENDING: {S.SUCCEEDED, S.FAILED}, S.FAILED: {S.SUCCEEDED},
                                                  S.SUCCEEDED: set()}
SANDBOX_TRADE_WORKFLOW = Workflow(SandboxTransaction, SANDBOX_TRADE_TRANSITIONS)
