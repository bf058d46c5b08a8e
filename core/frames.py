"""Reading a client's WebSocket frame: one rule for every consumer (the live room, notifications).

The size cap is the application's own (``WS_MAX_FRAME_BYTES`` for every socket, a consumer may pass
a smaller one), checked before anything is parsed, so it holds whatever ``--ws-max-size`` the server
was started with: a bigger frame is ``FrameRefused`` with ``close_code`` 1009 (message too big).
The text then goes through ``core.text.load_json``: bounded nesting (no ``RecursionError``),
bounded integers, no NUL, control character or lone surrogate in any string.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .text import MalformedInput, TextRefused, load_json

CLOSE_TOO_BIG = 1009


class FrameRefused(Exception):
    def __init__(self, code: str, message, close_code: int | None = None):
        super().__init__(code)
        self.code, self.message, self.close_code = code, message, close_code


def frame_bytes(raw, limit: int) -> int:
    """The size of a frame in bytes (a text frame is UTF-8 on the wire), exact when it could pass
    ``limit`` (a character is at most 4 bytes), without encoding a small frame."""
    if isinstance(raw, bytes) or len(raw) * 4 <= limit or len(raw) > limit:
        return len(raw)
    return len(raw.encode("utf-8", "surrogatepass"))


def read_frame(text_data=None, bytes_data=None, *, max_bytes: int | None = None) -> dict:
    """The client's message: a JSON object with a string ``type``; else ``FrameRefused``."""
    limit = min(max_bytes or settings.WS_MAX_FRAME_BYTES, settings.WS_MAX_FRAME_BYTES)
    raw = text_data if text_data is not None else bytes_data
    if raw is not None and frame_bytes(raw, limit) > limit:
        raise FrameRefused("too_large", _("That message is too large."), close_code=CLOSE_TOO_BIG)
    if text_data is None:
        raise FrameRefused("malformed", _("Send JSON text frames."))
    try:
        message = load_json(text_data)
    except TextRefused as error:
        raise FrameRefused(error.code, error.message) from None
    except MalformedInput as error:
        raise FrameRefused("malformed", error.message) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise FrameRefused("malformed", _("A message is a JSON object with a type."))
    return message


