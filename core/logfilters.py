"""Secrets never reach a log line: ``RedactSecrets`` on every handler.

Some secrets must travel in URLs: the live room still accepts ``?token=<JWT>`` (the contract;
the ``auth`` first message is the way without), and nginx-rtmp can only pass the media hook's
``?secret=``. Access logs write URLs, so every log record is redacted before it is formatted:
its message and each of its arguments, in query-string style (``token=…``, up to ``&``, a space or
a quote) and in JSON or Python-literal style (``"refresh": "…"``, ``'password': '…'``). The keys
are ``token``, ``secret``, ``access``, ``refresh`` and ``password``, alone or inside a longer name
(``access_token``, ``client_secret``); the value becomes ``[redacted]``.

Installed on the console handler by ``LOGGING`` (settings), on every handler that exists when
Django starts — uvicorn configures its access and error loggers before it imports the app —
by ``install`` (``CoreConfig.ready``), and on a Celery worker's own handlers by
``core.logs.connect_celery``.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_KEY = r"[A-Za-z0-9_.-]*(?:token|secret|access|refresh|password)[A-Za-z0-9_.-]*"
# key=value in a query string or a form body; the value ends at &, ;, whitespace or a quote.
_QUERY = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_KEY})=([^&;\s\"'<>]+)")
# "key": "value" or 'key': 'value' (JSON, a Python dict's repr); escaped quotes stay inside.
_QUOTED = re.compile(rf"""(?i)(["'])({_KEY})\1(\s*:\s*)(["'])((?:\\.|(?!\4).)*)\4""")


def redact(text: str) -> str:
    if "=" in text:
        text = _QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    if ":" in text:
        text = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{REDACTED}{m.group(4)}",
                           text)
    return text


def _redact_arg(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("latin-1"))
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    # Anything else (a dict, a request, an exception) is formatted by ``%`` with str(): redact that.
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_secrets_redacted", False):
            return True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        elif record.msg is not None and not isinstance(record.msg, (int, float)):
            record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record._secrets_redacted = True
        return True


def add_to(handler: logging.Handler) -> None:
    if not any(isinstance(f, RedactSecrets) for f in handler.filters):
        handler.addFilter(RedactSecrets())


def install() -> None:
    """Put ``RedactSecrets`` on every handler of every logger that exists now (uvicorn's too)."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            add_to(handler)
