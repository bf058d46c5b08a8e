"""A circuit breaker for calls to a service that may stop answering (Redis, above all).

A paused or unreachable Redis does not fail fast: each call waits for its socket timeout. After one
failure the breaker makes its callers skip the service for ``retry_after`` seconds (each caller
decides what skipping means: no rate limit, the database path alone, a refused chat line), so only
the calls already on their way pay the timeout. It logs once when it opens and once when the
service answers again, never a traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .metrics import BREAKER_OPEN

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, *, retry_after: Callable[[], float], consequence: str):
        self.name = name
        self._retry_after = retry_after  # read at each failure, so settings can change it
        self.consequence = consequence
        self._lock = threading.Lock()
        self.down_until = 0.0
        self.down = False

    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        retry_after = self._retry_after()
        with self._lock:
            first = not self.down
            self.down, self.down_until = True, time.monotonic() + retry_after
        if first:
            _set_open_metric(self.name, 1)
            logger.warning("%s: unreachable (%s: %s); %s for %.0f s at a time until it answers",
                           self.name, exc.__class__.__name__, exc, self.consequence, retry_after)

    def succeeded(self) -> None:
        if self.down:
            with self._lock:
                was_down, self.down = self.down, False
            if was_down:
                _set_open_metric(self.name, 0)
                logger.warning("%s: answers again", self.name)

    def reset(self) -> None:
        with self._lock:
            self.down_until, self.down = 0.0, False
        _set_open_metric(self.name, 0)


def _set_open_metric(name: str, value: int) -> None:
    BREAKER_OPEN.labels(name).set(value)
