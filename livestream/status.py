"""The stream and flash-offer workflows (core/transitions.py)."""

from core.transitions import Workflow

from .models import Offer, Stream, StreamEvent

S = Stream.Status
STREAM_TRANSITIONS: dict[str, set[str]] = {
    S.SCHEDULED: {S.LIVE, S.CANCELLED},
    S.LIVE: {S.ENDED},
    S.ENDED: set(),
    S.CANCELLED: set(),
}
STREAM_WORKFLOW = Workflow(Stream, STREAM_TRANSITIONS, events=StreamEvent,
                           timestamps={S.LIVE: "started_at", S.ENDED: "ended_at", S.CANCELLED: "cancelled_at"})

O = Offer.Status
# An offer's end is recorded on the offer itself (``end_reason``, ``ended_at``): no audit table.
OFFER_TRANSITIONS: dict[str, set[str]] = {O.LIVE: {O.ENDED}, O.ENDED: set()}
OFFER_WORKFLOW = Workflow(Offer, OFFER_TRANSITIONS)
