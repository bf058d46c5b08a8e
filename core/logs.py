"""Logs a machine can read and a person can follow: one request id from the edge to Celery.

- ``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` (a proxy's, or a client's own, when
  it is a plain token of at most 64 characters) or makes one, answers it in the response header,
  and keeps it in a context variable for the request's lifetime.
- ``RequestIdFilter`` (installed on the console handler) puts it on every log record as
  ``request_id`` ("-" outside a request), so every line a request causes can be found.
- A task sent while a request id is set carries it in its headers, and the worker sets it again
  while the task runs (``connect_celery``, which also gives the worker's own log handlers the same
  format), so a notification's delivery is found by the id of the request that caused it.
- ``JsonFormatter`` writes one JSON object a line (``LOG_FORMAT=json``, the production default).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = "HTTP_X_REQUEST_ID"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    """The caller's id when it is a plain token, else a new one (a log line is no place for input)."""
    if value and _VALID.fullmatch(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = accepted_request_id(request.META.get(_HEADER_KEY))
        # Kept until the response is finished (``_request_finished``), not only while the
        # middleware runs: Django logs a 4xx/5xx answer after the whole chain has returned.
        request_id.set(rid)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response


def _request_finished(**kwargs):
    request_id.set("-")


request_finished.connect(_request_finished, dispatch_uid="core.logs.request_finished")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        if record.exc_info or record.exc_text:
            # exc_text first: RedactSecrets (core/logfilters.py) leaves the redacted traceback there.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def connect_celery() -> None:
    """Carry the request id from the code that sends a task to the worker that runs it."""
    from celery.signals import (
        after_setup_logger,
        after_setup_task_logger,
        before_task_publish,
        task_postrun,
        task_prerun,
    )

    @after_setup_logger.connect(weak=False)
    @after_setup_task_logger.connect(weak=False)
    def _format(logger=None, **kwargs):
        """A worker's own handlers (its --logfile, its console) write what the web's do."""
        from django.conf import settings

        from .logfilters import add_to

        for handler in logger.handlers if logger is not None else []:
            add_to(handler)  # secrets redacted in the worker's lines too
            handler.addFilter(RequestIdFilter())
            if getattr(settings, "LOG_FORMAT", "plain") == "json":
                handler.setFormatter(JsonFormatter())
            else:
                handler.setFormatter(logging.Formatter(
                    "[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] %(message)s"))

    @before_task_publish.connect(weak=False)
    def _stamp(headers=None, **kwargs):
        if headers is not None and "request_id" not in headers:
            headers["request_id"] = request_id.get()

    @task_prerun.connect(weak=False)
    def _enter(task=None, **kwargs):
        if task is None:
            return
        rid = getattr(task.request, "request_id", None)
        if not isinstance(rid, str):  # an eager task inside a request keeps the request's id
            rid = request_id.get() if request_id.get() != "-" else new_request_id()
        task.request.request_id_token = request_id.set(rid)

    @task_postrun.connect(weak=False)
    def _leave(task=None, **kwargs):
        token = getattr(task.request, "request_id_token", None) if task is not None else None
        if token is not None:
            try:
                request_id.reset(token)
            except ValueError:  # set in another context (an eager task run inside a request)
                pass
