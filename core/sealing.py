"""Personal numbers sealed at rest.

Identity-card and licence numbers are personal information that China's PIPL asks us to protect:
they are stored encrypted (Fernet: AES-128-CBC with an HMAC-SHA256 tag, a fresh IV each time), so
a database dump or a replica leak shows no number. The application reads them back transparently;
exact look-ups (the admin's search) go through a keyed digest stored beside them.

Keys come from ``FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys: the first seals, every one
opens, so a new key is put first and the old one kept until ``manage.py reseal`` has run). Without
it, one key is derived from ``SECRET_KEY``; the deploy check warns, because SECRET_KEY could then
never be rotated without losing the numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80 and a timestamp)


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derive(secret, b"cunbo sealed fields")).decode(),)
    return MultiFernet([Fernet(key) for key in keys])


def _sealer() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def seal(value: str) -> str:
    return _sealer().encrypt(value.encode()).decode()


def unseal(token: str) -> str:
    return _sealer().decrypt(token.encode()).decode()


def reseal(token: str) -> str:
    """The same value sealed with the first (newest) key."""
    return _sealer().rotate(token.encode()).decode()


def lookup_digest(value: str) -> str:
    """A keyed digest for exact matches: equal values give equal digests, the digest gives nothing away."""
    key = _derive(settings.FIELD_LOOKUP_KEY or settings.SECRET_KEY, b"cunbo lookup digests")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class SealedCharField(models.TextField):
    """A text field stored sealed. Only ``isnull`` can be queried: a sealed value never equals another
    sealing of the same text, so filter on a digest field instead (``lookup_digest``)."""

    description = "Text sealed at rest"

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return unseal(value)
        except InvalidToken:
            if value.startswith(TOKEN_PREFIX):
                raise  # sealed with a key we no longer hold: never pass a token off as the number
            return value  # written before sealing existed; the migration reseals it

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return seal(value)

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None
