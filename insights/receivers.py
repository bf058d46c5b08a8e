"""How insights hears of facts it does not note itself (core/domain_events.py)."""

from core.domain_events import AFTER_COMMIT
from core.interactions import interaction_note
from payments.domain_events import payment_received


@payment_received.receiver(phase=AFTER_COMMIT)
def note_a_paid_order(*, payment_id, order_id, provider, amount, kept):
    """A paid order is the strongest signal there is; its buyer and lines are found when drained."""
    if kept:
        interaction_note(kind="paid", user_id=None, ref=order_id)
