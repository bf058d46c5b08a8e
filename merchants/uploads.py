"""Uploaded files: checked by their content (not their name), bounded in size, renamed.

Used by credentials, shop logos, product images and inspection reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed

IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
PDF = ("application/pdf", ".pdf")
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile
    content_type: str
    extension: str


def check_upload(file: UploadedFile, *, field: str, allow_pdf: bool = False) -> CheckedUpload:
    """Return the file with its true type, or raise a 400 naming ``field``."""
    limit = settings.UPLOAD_MAX_BYTES
    if file.size is None or file.size > limit:
        raise ValidationFailed(fields={field: [_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]})
    if file.size == 0:
        raise ValidationFailed(fields={field: [_("The file is empty.")]})
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if allow_pdf and head.startswith(b"%PDF-"):
        return CheckedUpload(file, *PDF)
    kind = _image_format(file)
    if kind is None:
        allowed = _("a JPEG, PNG or WebP image or a PDF") if allow_pdf else _("a JPEG, PNG or WebP image")
        raise ValidationFailed(fields={field: [_("Upload %(allowed)s.") % {"allowed": allowed}]})
    return CheckedUpload(file, *IMAGE_FORMATS[kind])


def _image_format(file) -> str | None:
    from PIL import Image

    try:
        with Image.open(file) as image:
            fmt = image.format
            if fmt not in IMAGE_FORMATS or image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            image.verify()
    except Exception:  # Pillow raises many kinds for a file that is not an image
        return None
    finally:
        file.seek(0)
    return fmt


def renamed(checked: CheckedUpload) -> UploadedFile:
    """The same file under a random name with the extension of its detected type."""
    import uuid

    checked.file.name = f"{uuid.uuid4().hex}{checked.extension}"
    checked.file.content_type = checked.content_type
    return checked.file
