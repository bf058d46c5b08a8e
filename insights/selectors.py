"""Reads of insights, scoped by who asks: a buyer reads only what is kept of the buyer."""

from __future__ import annotations

from django.db.models import Count, Min, QuerySet

from .models import BuyerProfile, InteractionEvent


def my_interactions(*, user) -> QuerySet[InteractionEvent]:
    return InteractionEvent.objects.filter(user=user).select_related("product", "merchant", "stream")


def my_insights(*, user) -> dict:
    """The buyer's own profile and a summary of what is kept (three queries)."""
    profile = BuyerProfile.objects.filter(user=user).first() or BuyerProfile(user=user)
    kept = dict(InteractionEvent.objects.filter(user=user).values_list("kind").annotate(n=Count("pk")).order_by())
    oldest = InteractionEvent.objects.filter(user=user).aggregate(at=Min("at"))["at"]
    return {"personalised": profile.personalised, "match_alerts": profile.match_alerts,
            "interests": profile.interests, "built_at": profile.built_at, "kept": kept, "oldest": oldest}
