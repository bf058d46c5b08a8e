"""What each kind of notification says, translated into the reader's language.

Apps register their kinds here: ``KINDS[kind] = (title, body)`` with
``%(name)s`` placeholders filled from the notification's params.
"""

from django.utils.translation import gettext_lazy as _

KINDS: dict[str, tuple] = {}


def register(kind: str, title, body="") -> None:
    KINDS[kind] = (title, body)


def render(kind: str, params: dict) -> tuple[str, str]:
    title, body = KINDS.get(kind, (_("Notification"), ""))
    try:
        return str(title) % params, (str(body) % params if body else "")
    except (KeyError, TypeError, ValueError):
        return str(title), str(body)
