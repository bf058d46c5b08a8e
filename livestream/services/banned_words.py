"""The live room's banned words: the platform's list (``LIVE_CHAT_BANNED_WORDS``) and the room's
own (``Stream.banned_words``, set by the stream's owner), matched after normalising both sides.

A plain substring match is walked around with a zero-width space (``加\u200b微信``), full-width
letters or signs (``加Ｖ``, ``＋v``), or case: ``normalise`` applies NFKC (full-width → ASCII,
compatibility forms folded), removes every format character (Unicode category Cf: U+200B…U+200F,
U+2060, U+FEFF, the bidi controls, …) and whitespace, and case-folds — to the text and to the words.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed

MAX_WORDS = 100
MAX_WORD_LENGTH = 50


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char) != "Cf" and not char.isspace())


def banned_word_in(text: str, room_words=()) -> bool:
    """Does ``text`` contain a word of the platform's list or of the room's own?"""
    plain = normalise(text)
    for word in (*settings.LIVE_CHAT_BANNED_WORDS, *(room_words or ())):
        needle = normalise(word)
        if needle and needle in plain:
            return True
    return False


def clean_room_words(words: list[str]) -> list[str]:
    """An owner's list for their room (the serializer bounds it: at most ``MAX_WORDS`` texts of at
    most ``MAX_WORD_LENGTH`` characters): a word must keep something once normalised; duplicates
    (after normalising) are dropped, the order kept."""
    kept: dict[str, str] = {}
    for word in words:
        needle = normalise(word)
        if not needle:
            message = _("A banned word must contain letters or signs, not only spaces or invisible characters.")
            raise ValidationFailed(message, fields={"banned_words": [str(message)]})
        kept.setdefault(needle, word.strip())
    return list(kept.values())
