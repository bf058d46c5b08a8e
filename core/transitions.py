"""Status machines: one transition table per model, checked and recorded in one place.

Each workflow is declared once, in its app's ``status.py``::

    ORDER_WORKFLOW = Workflow(Order, ORDER_TRANSITIONS, events=OrderEvent,
                              timestamps={Order.Status.PAID: "paid_at"})

and every change of status goes through ``ORDER_WORKFLOW.transition(order, to, actor=…, reason=…)``:
it refuses a move the table does not allow (409 ``invalid_transition``), writes the audit row
(who, when, from, to, why), stamps the status's timestamp and saves exactly those fields. Bulk
paths that move many rows with one conditional ``UPDATE`` take their ``WHERE status IN (…)``
from ``workflow.sources(to)``, so the table is the only place the rule is written.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import InvalidTransition


def ensure_transition(table: Mapping[str, set[str]], current: str, target: str) -> None:
    """Raise ``InvalidTransition`` (409) unless ``current -> target`` is in ``table``."""
    if target not in table.get(current, ()):
        raise InvalidTransition(
            _("Cannot change status from “%(current)s” to “%(target)s”.") % {"current": current, "target": target},
            fields={"status": [current]},
        )


_workflows: dict[type[models.Model], Workflow] = {}


def workflows() -> dict[type[models.Model], Workflow]:
    """Every declared workflow by model (for the docs and the test that none is missing)."""
    return dict(_workflows)


class Workflow:
    """One model's status machine: its table, its audit rows and the timestamps its statuses set."""

    def __init__(self, model: type[models.Model], table: Mapping[str, set[str]], *,
                 events: type[models.Model] | None = None, timestamps: Mapping[str, str] | None = None,
                 field: str = "status"):
        self.model, self.table, self.events, self.field = model, table, events, field
        self.timestamps = dict(timestamps or {})
        choices = {value for value, _label in model._meta.get_field(field).choices}
        unknown = (set(table) | set().union(*table.values())) - choices
        if unknown:
            raise ValueError(f"{model.__name__} workflow names unknown statuses: {sorted(unknown)}")
        self._event_fk = None
        if events is not None:
            self._event_fk = next(f.name for f in events._meta.fields
                                  if f.is_relation and f.related_model is model)
        self._auto_now = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        if model in _workflows:
            raise RuntimeError(f"{model.__name__} has two workflows")
        _workflows[model] = self

    def allowed(self, current: str, to: str) -> bool:
        return to in self.table.get(current, ())

    def check(self, current: str, to: str) -> None:
        ensure_transition(self.table, current, to)

    def sources(self, to: str) -> list[str]:
        """The statuses ``to`` may be entered from (for a bulk conditional UPDATE's WHERE)."""
        return sorted(status for status, targets in self.table.items() if to in targets)

    def apply(self, obj: models.Model, to: str, *, actor=None, reason: str = "",
              event_fields: Mapping | None = None):
        """Check and make the move in memory (audit row written, timestamp stamped) without saving
        ``obj``; return the audit row (``None`` for a model without one). For callers that write more
        of the row in their own ``save``."""
        current = getattr(obj, self.field)
        self.check(current, to)
        event = None
        if self.events is not None:
            real_actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
            event = self.events.objects.create(**{self._event_fk: obj}, actor=real_actor, from_status=current,
                                               to_status=to, reason=reason, **(event_fields or {}))
        setattr(obj, self.field, to)
        if to in self.timestamps:
            setattr(obj, self.timestamps[to], timezone.now())
        return event

    def transition(self, obj: models.Model, to: str, *, actor=None, reason: str = "",
                   update_fields: tuple[str, ...] = (), save: bool = True) -> models.Model:
        """Move ``obj`` (locked by the caller) to ``to``: check, record, stamp, save (or leave the
        save to a caller that writes more fields of the row in the same ``save``)."""
        self.apply(obj, to, actor=actor, reason=reason)
        fields = [self.field, *update_fields, *self._auto_now]
        if to in self.timestamps:
            fields.append(self.timestamps[to])
        if save:
            obj.save(update_fields=list(dict.fromkeys(fields)))
        return obj


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
