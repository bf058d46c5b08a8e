"""Checks for the numbers printed on Chinese identity documents and licences."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: \d would take other scripts' digits

# GB 32100-2015 unified social credit code: 31 characters, no I, O, S, V, Z.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

_GENERIC_RE = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff()（）\-/·.]{4,64}$")


def id_card_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=False)) % 11]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=False))
    return _USCC_CHARS[(31 - total % 31) % 31]


def normalise_number(kind: str, number: str) -> str:
    number = (number or "").strip().replace(" ", "")
    if kind in ("id_card", "business_license"):
        number = number.upper()
    return number


def number_error(kind: str, number: str):
    """The reason ``number`` is not a valid ``kind`` number, or None."""
    if kind == "id_card":
        if not _ID_RE.match(number):
            return _("Enter a valid 18-digit resident ID card number.")
        if id_card_check_digit(number[:17]) != number[17]:
            return _("The last character of this ID card number does not match the first 17 digits (its "
                     "check digit): a digit was probably mistyped.")
        return None
    if kind == "business_license":
        if not _USCC_RE.match(number):
            return _("Enter a valid 18-character unified social credit code.")
        if uscc_check_char(number[:17]) != number[17]:
            return _("The last character of this credit code does not match the first 17 (its check "
                     "character): a character was probably mistyped.")
        return None
    if not _GENERIC_RE.match(number):
        return _("Enter the certificate number as printed (4 to 64 letters, digits or Chinese characters).")
    return None
