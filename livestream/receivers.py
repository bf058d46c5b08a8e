"""How the live room reacts to other domains' events (core/domain_events.py)."""

from core.domain_events import AFTER_COMMIT
from merchants.domain_events import merchant_stopped_selling

from .services import merchant_streams_stop


@merchant_stopped_selling.receiver(phase=AFTER_COMMIT)
def stop_streams_of_suspended_shop(*, merchant_id, actor, reason):
    """A suspended shop's live streams end (their offers return stock) and its scheduled ones are
    cancelled as soon as the suspension commits; the sweep (``livestream.tasks.sweep``) is only the
    safety net for a failure here."""
    merchant_streams_stop(merchant_id=merchant_id, actor=actor)
