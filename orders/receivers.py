"""How orders react to other domains' events (core/domain_events.py)."""

from core.domain_events import AFTER_COMMIT
from livestream.domain_events import offer_closed, offer_opened

from .checkout import gate


@offer_opened.receiver(phase=AFTER_COMMIT)
def load_the_gate_of_an_opened_offer(*, offer_id):
    """The Redis gate learns the offer's units and per-buyer limit as soon as it is live."""
    gate.offer_gate_reset(offer_id=offer_id)


@offer_closed.receiver(phase=AFTER_COMMIT)
def close_the_gate_of_a_closed_offer(*, offer_id):
    gate.offer_gate_close(offer_id=offer_id)
