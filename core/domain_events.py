"""Domain events: how a lower app hears of a higher one's facts without importing it.

Imports between apps point one way (README, "Layers"; import-linter enforces it). When a rule of a
higher app must follow a fact of a lower one (a shop suspended → its streams end and its claims are
withdrawn), the lower app *announces* the fact and the higher app *receives* it:

    # merchants/domain_events.py — the owner defines the event and documents its payload
    merchant_stopped_selling = DomainEvent("merchants.merchant_stopped_selling", payload=("merchant_id", "reason"))

    # livestream/receivers.py — a higher app reacts (imported by its AppConfig.ready())
    @merchant_stopped_selling.receiver(phase=AFTER_COMMIT)
    def end_streams(*, merchant_id, reason): ...

    # merchants/services/shops.py — inside the service's transaction
    merchant_stopped_selling.send(merchant_id=shop.pk, reason=reason)

Two phases:

- ``IN_TRANSACTION`` receivers run at once, inside the sender's transaction: for rules that must
  hold together with the fact (if the receiver fails, the whole write rolls back);
- ``AFTER_COMMIT`` receivers run once the sender's outermost transaction commits (at once outside
  one), never after a rollback: for side effects (sockets, tasks, re-indexing). One that fails is
  logged and does not undo the commit, nor stop the other receivers.

A payload is keyword arguments, checked against the event's declared names, so a receiver's
signature is the contract. Events are registered once per name; a second event with the same name
is a programming error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

logger = logging.getLogger(__name__)

IN_TRANSACTION = "in_transaction"
AFTER_COMMIT = "after_commit"
_PHASES = (IN_TRANSACTION, AFTER_COMMIT)

_registry: dict[str, DomainEvent] = {}


@dataclass(eq=False)
class DomainEvent:
    name: str
    payload: tuple[str, ...] = ()
    _receivers: dict[str, list[Callable]] = field(default_factory=lambda: {phase: [] for phase in _PHASES},
                                                  repr=False)

    def __post_init__(self):
        if self.name in _registry:
            raise RuntimeError(f"domain event {self.name!r} is defined twice")
        _registry[self.name] = self

    def connect(self, receiver: Callable, *, phase: str) -> Callable:
        if phase not in _PHASES:
            raise ValueError(f"phase must be one of {_PHASES}")
        if receiver not in self._receivers[phase]:
            self._receivers[phase].append(receiver)
        return receiver

    def disconnect(self, receiver: Callable) -> None:
        for receivers in self._receivers.values():
            if receiver in receivers:
                receivers.remove(receiver)

    def receiver(self, *, phase: str) -> Callable[[Callable], Callable]:
        def decorate(function: Callable) -> Callable:
            return self.connect(function, phase=phase)

        return decorate

    def send(self, **payload) -> list:
        """Run the in-transaction receivers now (their results are returned, in order) and
        schedule the after-commit ones."""
        if set(payload) != set(self.payload):
            raise TypeError(f"{self.name} takes {sorted(self.payload)}, got {sorted(payload)}")
        results = [receiver(**payload) for receiver in list(self._receivers[IN_TRANSACTION])]
        for receiver in list(self._receivers[AFTER_COMMIT]):
            transaction.on_commit(_guarded(self.name, receiver, payload))
        return results


def _guarded(name: str, receiver: Callable, payload: dict) -> Callable[[], None]:
    def run() -> None:
        try:
            receiver(**payload)
        except Exception:
            logger.exception("after-commit receiver %s of %s failed", getattr(receiver, "__qualname__", receiver), name)

    return run


def registered() -> dict[str, DomainEvent]:
    """Every defined event by name (for the docs and the tests)."""
    return dict(_registry)
