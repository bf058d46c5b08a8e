"""core/logfilters.py: every log record is redacted, whatever carries the secret (issue #12, finding 4).

The real run (uvicorn's access log, a socket with ?token=, the media hook's ?secret=) is
tests/livestream/test_log_redaction.py; this is the matrix of shapes and the handlers it sits on."""

import io
import itertools
import json
import logging

import pytest
from django.conf import settings

from core.logfilters import RedactSecrets, install, redact

SECRET = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.sig-NATURE_123"
KEYS = ["token", "secret", "access", "refresh", "password", "access_token", "refresh_token", "client_secret",
        "Token", "PASSWORD", "x-auth-token"]
SHAPES = [
    "GET /ws/streams/1/?{k}={v} HTTP/1.1",
    "/api/streams/hooks/publish/?name=abc&{k}={v}&app=live",
    "{k}={v}",
    '{{"{k}": "{v}", "page": 2}}',
    '{{"{k}":"{v}"}}',
    "{{'{k}': '{v}', 'page': 2}}",
    "form {k}={v}; next",
]
PLACES = ["message", "tuple_arg", "dict_arg", "object_arg", "exception"]
CASES = list(itertools.product(KEYS, SHAPES, PLACES))


class _Arg:
    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def _emit(place: str, text: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"test.redaction.{place}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    if place == "message":
        logger.info(text)
    elif place == "tuple_arg":
        logger.info("seen %s (%d)", text, 3)
    elif place == "dict_arg":
        logger.info("seen %(line)s", {"line": text})
    elif place == "object_arg":
        logger.info("seen %s", _Arg(text))
    else:
        try:
            raise ValueError(text)
        except ValueError:
            logger.exception("failed")
    return stream.getvalue()


@pytest.mark.parametrize("key, shape, place", CASES)
def test_every_shape_of_a_secret_is_redacted_wherever_it_is(key, shape, place):
    out = _emit(place, shape.format(k=key, v=SECRET))
    assert SECRET not in out and "c2VjcmV0LXBheWxvYWQ" not in out, out
    assert "[redacted]" in out and key in out, out


@pytest.mark.parametrize("text", [
    "GET /api/streams/?page=2&status=live HTTP/1.1", '{"count": 3, "status": "live"}', "viewers=12",
    "stream 5 ended: 3 sold", "sold=4&left=2",
])
def test_other_values_are_left_alone(text):
    assert redact(text) == text
    assert _emit("message", text).strip() == text


def test_the_json_formatter_writes_the_redacted_traceback():
    from core.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction.json")
    logger.propagate, logger.handlers = False, [handler]
    try:
        raise RuntimeError(f"while reading ?token={SECRET}")
    except RuntimeError:
        logger.exception("boom %s", f'{{"refresh": "{SECRET}"}}')
    entry = json.loads(stream.getvalue())
    assert SECRET not in stream.getvalue()
    assert entry["message"] == 'boom {"refresh": "[redacted]"}' and "token=[redacted]" in entry["exception"]


def test_every_configured_handler_and_every_existing_handler_redacts():
    assert all("redact" in handler.get("filters", []) for handler in settings.LOGGING["handlers"].values())
    foreign = logging.getLogger("uvicorn.access.test-redaction")  # configured before Django, like uvicorn's
    foreign.addHandler(logging.StreamHandler(io.StringIO()))
    install()
    for logger in [logging.getLogger(), foreign]:
        assert logger.handlers and all(
            any(isinstance(f, RedactSecrets) for f in h.filters) for h in logger.handlers), logger


def test_a_celery_workers_own_handlers_redact():
    from celery.signals import after_setup_logger, after_setup_task_logger

    import marketplace.celery  # noqa: F401 - connects the signals

    for signal in (after_setup_logger, after_setup_task_logger):
        stream = io.StringIO()
        logger = logging.getLogger(f"test.redaction.celery.{signal.name}")
        logger.propagate, logger.handlers = False, [logging.StreamHandler(stream)]
        signal.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False)
        logger.warning("task got %s", f"secret={SECRET}")
        assert SECRET not in stream.getvalue() and "secret=[redacted]" in stream.getvalue()
