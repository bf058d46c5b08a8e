"""Status machines: one transition table per model, checked in one place."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import InvalidTransition


def ensure_transition(table: Mapping[str, set[str]], current: str, target: str) -> None:
    """Raise ``InvalidTransition`` (409) unless ``current -> target`` is in ``table``."""
    if target not in table.get(current, ()):
        raise InvalidTransition(
            _("Cannot change status from “%(current)s” to “%(target)s”.") % {"current": current, "target": target},
            fields={"status": [current]},
        )


class StatusEvent(models.Model):
    """An audit row for one status change: who, when, from, to, why."""

    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor")
    )
    from_status = models.CharField(_("from"), max_length=32, blank=True)
    to_status = models.CharField(_("to"), max_length=32)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]
