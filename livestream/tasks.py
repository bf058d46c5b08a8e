"""Celery entry points: thin, id-based, idempotent (a second run changes nothing)."""

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Offer


@shared_task(name="livestream.offer_expire")
def offer_expire(offer_id: int) -> bool:
    """Scheduled at an offer's ``ends_at``: end it as expired if it is still live and due."""


    if not Offer.objects.filter(pk=offer_id, status=Offer.Status.LIVE, ends_at__lte=timezone.now()).exists():
        return False
    return services.offer_end(offer_id=offer_id, reason=Offer.EndReason.EXPIRED) is not None


@shared_task(name="livestream.sweep")
def sweep() -> dict:
    """Every few seconds (beat): expire due offers (if an ETA task was lost), stop suspended shops' streams."""
    return {"offers_expired": services.offers_expire_due(), "streams_stopped": services.streams_sweep()}
