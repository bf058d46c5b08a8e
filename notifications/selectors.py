from django.db.models import QuerySet

from .models import Notification, Preference


def notifications_for(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, newest first; no one else's can leak in."""
    qs = Notification.objects.filter(user=user).only(
        "id", "kind", "params", "title", "body", "read_at", "created_at")
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-created_at", "-pk")


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def preference_get(*, user) -> Preference:
    """The user's SMS preferences (the defaults, unsaved, if never set)."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)
