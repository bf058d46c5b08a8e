"""Every write of insights: the buyer's choices, clearing what is kept, retention."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .models import BuyerProfile, InteractionEvent, Recommendation


def _require_consumer(user) -> None:
    if not user.is_consumer:
        raise DomainError(_("Only buyers have an interest profile."), code="permission_denied", status=403)


def profile_get_or_create(*, user) -> BuyerProfile:
    profile, _created = BuyerProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_settings_update(*, user, personalised: bool | None = None, match_alerts: bool | None = None
                            ) -> BuyerProfile:
    """Turn personalised matching or matched go-live alerts on or off. Turning matching off also
    clears what is kept (nothing more is recorded from then on)."""
    _require_consumer(user)
    profile = profile_get_or_create(user=user)
    if personalised is not None:
        profile.personalised = personalised
    if match_alerts is not None:
        profile.match_alerts = match_alerts
    profile.save(update_fields=["personalised", "match_alerts"])
    if personalised is False:
        insights_clear(user=user)
        profile.refresh_from_db()
    return profile


@transaction.atomic
def insights_clear(*, user) -> int:
    """Erase every interaction kept of the buyer, the interests learnt from them and the buyer's
    recommendations (PIPL: the right to erasure). Returns the interactions erased."""
    _require_consumer(user)
    erased, _counts = InteractionEvent.objects.filter(user=user).delete()
    Recommendation.objects.filter(user=user).delete()
    BuyerProfile.objects.filter(user=user).update(interests={}, built_at=None)
    return erased


def interactions_purge(*, now: datetime.datetime | None = None, limit: int = 10_000) -> int:
    """Delete interactions older than INSIGHTS_RETENTION_DAYS (a bounded batch per call)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.INSIGHTS_RETENTION_DAYS)
    ids = list(InteractionEvent.objects.filter(at__lt=cutoff).order_by("at").values_list("pk", flat=True)[:limit])
    deleted, _counts = InteractionEvent.objects.filter(pk__in=ids).delete()
    return deleted
