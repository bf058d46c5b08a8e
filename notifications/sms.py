"""Sending SMS through a pluggable sender.

``settings.NOTIFICATIONS_SMS = {"BACKEND": "<dotted class>", "OPTIONS": {...}}``
picks one. Every sender takes a batch of messages, each with an idempotency
``key`` (the outbox row's key), and answers per message. A sender that can also
``lookup`` which keys it has already accepted lets the outbox recover from a
worker killed between sending and recording "sent" without sending twice
(docs/logistics-notifications.md).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    key: str
    phone: str
    text: str


@dataclass(frozen=True)
class SendResult:
    key: str
    ok: bool
    provider_id: str = ""
    error: str = ""
    retryable: bool = True


class SmsSender:
    """The interface. Subclasses implement ``send_batch`` and, if they can, ``lookup``."""

    #: Longest a ``send_batch`` call may take; the outbox lease must be longer.
    max_batch_seconds: float = 30.0

    def send_batch(self, messages: list[SmsMessage]) -> list[SendResult]:
        raise NotImplementedError

    def lookup(self, keys: list[str]) -> set[str] | None:
        """The keys among ``keys`` the provider has accepted, or None if it cannot tell."""
        return None


class ConsoleSmsSender(SmsSender):
    """Development: writes each message to the log. Cannot look anything up."""

    def send_batch(self, messages):
        for message in messages:
            logger.info("SMS to %s [%s]: %s", message.phone, message.key, message.text)
        return [SendResult(key=m.key, ok=True) for m in messages]


class FileSmsSender(SmsSender):
    """Appends one JSON line per message to a file (a spool a gateway or a test can read).

    Each line is one ``write`` on an ``O_APPEND`` descriptor, so a process killed
    mid-batch leaves whole lines only; the batch is fsynced before it counts as
    sent. ``lookup`` reads the file back, which is what makes recovery exact.
    """

    def __init__(self, path: str):
        if not path:
            raise ValueError("FileSmsSender needs a path (NOTIFICATIONS_SMS_FILE)")
        self.path = path

    def send_batch(self, messages):
        if not messages:
            return []
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            at = timezone.now().isoformat()
            for message in messages:
                line = json.dumps({"key": message.key, "phone": message.phone, "text": message.text, "at": at},
                                  ensure_ascii=False) + "\n"
                os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return [SendResult(key=m.key, ok=True) for m in messages]  # the key is the spool's reference

    def lookup(self, keys):
        wanted = set(keys)
        found: set[str] = set()
        try:
            with open(self.path, encoding="utf-8") as spool:
                fcntl.flock(spool, fcntl.LOCK_SH)
                for line in spool:
                    if not line.endswith("\n"):
                        continue  # a torn last line was never sent
                    key = json.loads(line).get("key")
                    if key in wanted:
                        found.add(key)
        except FileNotFoundError:
            pass
        return found


class HttpSmsSender(SmsSender):
    """A real provider behind a small JSON-over-HTTPS gateway protocol.

    ``POST {url}/send`` with ``{"sign": …, "messages": [{"id", "phone", "text"}]}`` answers
    ``{"results": [{"id", "accepted": bool, "message_id"?, "error"?, "retryable"?}]}``;
    ``POST {url}/lookup`` with ``{"ids": [...]}`` answers ``{"accepted": [ids]}``.
    The gateway must treat a repeated ``id`` as already sent (Aliyun's ``OutId`` /
    Tencent's ``SessionContext`` carry it to the carrier). A network failure makes
    the whole batch retryable: the outbox asks ``lookup`` before sending again.
    """

    def __init__(self, url: str, token: str = "", sign: str = "村播", timeout: float = 10.0):
        if not url:
            raise ValueError("HttpSmsSender needs a url (NOTIFICATIONS_SMS_URL)")
        self.url = url.rstrip("/")
        self.token = token
        self.sign = sign
        self.timeout = float(timeout)
        self.max_batch_seconds = self.timeout

    def _post(self, path: str, payload: dict) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}", data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {self.token}"}
                                                            if self.token else {})})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
            return json.loads(response.read() or b"{}")

    def send_batch(self, messages):
        if not messages:
            return []
        try:
            answer = self._post("/send", {"sign": self.sign, "messages": [
                {"id": m.key, "phone": m.phone, "text": m.text} for m in messages]})
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            return [SendResult(key=m.key, ok=False, error=f"gateway: {exc}"[:200]) for m in messages]
        by_id = {str(r.get("id")): r for r in answer.get("results", [])}
        results = []
        for message in messages:
            result = by_id.get(message.key)
            if result is None:
                results.append(SendResult(key=message.key, ok=False, error="gateway gave no answer"))
            elif result.get("accepted"):
                results.append(SendResult(key=message.key, ok=True, provider_id=str(result.get("message_id", ""))[:64]))
            else:
                results.append(SendResult(key=message.key, ok=False, error=str(result.get("error", "rejected"))[:200],
                                          retryable=bool(result.get("retryable", False))))
        return results

    def lookup(self, keys):
        try:
            answer = self._post("/lookup", {"ids": list(keys)})
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            logger.warning("SMS gateway lookup failed for %d keys", len(keys))
            raise
        return set(map(str, answer.get("accepted", []))) & set(keys)


@lru_cache(maxsize=8)
def _build(backend: str, options: tuple) -> SmsSender:
    return import_string(backend)(**dict(options))


def get_sms_sender() -> SmsSender:
    config = settings.NOTIFICATIONS_SMS
    options = tuple(sorted((k, v) for k, v in config.get("OPTIONS", {}).items()))
    return _build(config["BACKEND"], options)


def sms_text(title: str, body: str) -> str:
    return f"{title} {body}" if body else title
