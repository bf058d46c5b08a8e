"""Factories and valid document numbers for the merchants tests."""

import datetime
import io
import random

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from merchants.models import Credential
from merchants.validators import _USCC_CHARS, id_card_check_digit, uscc_check_char
from tests.factories import MerchantFactory


def id_card_number(seed: int = 0) -> str:
    first17 = f"370783199{(seed % 10)}0101{(seed % 900) + 100:03d}"[:17]
    return first17 + id_card_check_digit(first17)


def uscc_number(seed: int = 0) -> str:
    rng = random.Random(seed)
    first17 = "93" + "370783" + "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    return first17 + uscc_check_char(first17)


def png_bytes(size=(8, 8)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_file(name="photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def pdf_file(name="cert.pdf") -> SimpleUploadedFile:
    from tests.uploads import pdf_file as real_pdf

    return real_pdf(name)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


class CredentialFactory(factory.django.DjangoModelFactory):
    """A verified credential valid for a year unless told otherwise."""

    class Meta:
        model = Credential

    merchant = factory.SubFactory(MerchantFactory)
    kind = Credential.Kind.ORGANIC_CERT
    number = factory.Sequence(lambda n: f"ORG-2026-{n:05d}")
    issuer = "中绿华夏有机产品认证中心"
    issued_at = factory.LazyFunction(lambda: in_days(-30))
    expires_at = factory.LazyFunction(lambda: in_days(365))
    status = Credential.Status.APPROVED
