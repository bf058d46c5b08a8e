"""How the live room reacts to other domains."""

from django.db import transaction
from django.dispatch import receiver

from merchants.signals import merchant_stopped_selling


@receiver(merchant_stopped_selling, dispatch_uid="livestream.stop_streams_of_suspended_shop")
def stop_streams_of_suspended_shop(sender, merchant, actor=None, **kwargs):
    """A suspended shop's live streams end (their offers return stock) and its scheduled ones are
    cancelled as soon as the suspension commits; the sweep (``livestream.tasks.sweep``) is only the
    safety net for a failure here."""
    from .services import merchant_streams_stop

    merchant_id = merchant.pk
    transaction.on_commit(lambda: merchant_streams_stop(merchant_id=merchant_id, actor=actor), robust=True)
