"""Every uploaded file goes through ``check_upload``: typed by its content, bounded, rebuilt, renamed.

Used by every upload field: product images and inspection reports (catalog), shop logos and
credentials (merchants), stream covers (livestream) and dispute photos (orders).

- **Bytes**: at most ``UPLOAD_MAX_BYTES``; an empty file is refused.
- **Images** (JPEG, PNG, WebP only; Pillow names the format from the bytes, never from the name or
  the client's content type): at most ``UPLOAD_MAX_IMAGE_PIXELS`` pixels, read from the header
  *before* any pixel is decoded, so a 100-megapixel PNG of a few kilobytes (an image bomb for every
  viewer's app) is refused without being inflated; Pillow's own ``MAX_IMAGE_PIXELS`` is the same
  figure, and its bomb warning is an error here. The image is then **re-encoded** from its pixels
  (orientation applied, first frame only): EXIF (GPS position, camera serial), XMP, ICC, comments and
  anything appended after the image data (a polyglot's second file) are gone.
- **PDFs** (credentials and inspection reports only): a real structure — ``%PDF-1.x`` at byte 0, a
  ``startxref`` and ``%%EOF`` at the end, objects — and no active content: no ``/JavaScript``,
  ``/JS``, ``/OpenAction``, ``/AA``, ``/Launch``, ``/SubmitForm``, ``/ImportData``, ``/RichMedia``,
  ``/EmbeddedFile`` or ``/XFA`` name, looked for in the file and inside its compressed streams
  (object streams hide dictionaries there), with ``#xx`` escapes in names decoded; and no HTML or
  SVG markup anywhere (a PDF that is also a web page).
- **Names**: the stored name is a random ``uuid4`` hex with the extension of the detected type; the
  client's file name is never kept.
- **Where**: the checked file goes to the field's storage (core/storage.py): the local disk, or the
  public or private S3 bucket, with the detected type as its ``Content-Type``.

A refusal is a ``ValidationFailed`` (400 envelope) naming the field; callers check before they
write anything, so a refused upload stores nothing.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed

IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
PDF = ("application/pdf", ".pdf")

# Names whose presence makes a PDF act (run script, open a URL or a program, carry another file).
PDF_ACTIVE_NAMES = frozenset({
    b"JavaScript", b"JS", b"OpenAction", b"AA", b"Launch", b"SubmitForm", b"ImportData", b"RichMedia",
    b"EmbeddedFile", b"EmbeddedFiles", b"XFA", b"GoToR", b"GoToE",
})
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_MARKUP = re.compile(rb"<\s*(?:html|script|svg|body|iframe|!doctype)\b", re.I)
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PDF_TAIL_BYTES = 2048
_PDF_INFLATE_LIMIT = 32 * 1024 * 1024  # what all of a PDF's streams may inflate to while being scanned


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed: ``file`` is what to store (rebuilt, under its random name)."""

    file: ContentFile
    content_type: str
    extension: str


def max_image_pixels() -> int:
    return settings.UPLOAD_MAX_IMAGE_PIXELS


def _refuse(field: str, message) -> ValidationFailed:
    return ValidationFailed(fields={field: [message]})


def check_upload(file, *, field: str, allow_pdf: bool = False) -> CheckedUpload:
    """The file checked and rebuilt under a random name, or a 400 naming ``field``."""
    limit = settings.UPLOAD_MAX_BYTES
    size = getattr(file, "size", None)
    if size is None or size > limit:
        raise _refuse(field, _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    if size == 0:
        raise _refuse(field, _("The file is empty."))
    file.seek(0)
    data = file.read(limit + 1)
    file.seek(0)
    if len(data) > limit:
        raise _refuse(field, _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    if allow_pdf and data.startswith(b"%PDF-"):
        _check_pdf(data, field=field)
        content_type, extension = PDF
        return CheckedUpload(_stored(data, content_type, extension), content_type, extension)
    rebuilt, fmt = _rebuilt_image(data, field=field, allow_pdf=allow_pdf)
    content_type, extension = IMAGE_FORMATS[fmt]
    return CheckedUpload(_stored(rebuilt, content_type, extension), content_type, extension)


def _stored(data: bytes, content_type: str, extension: str) -> ContentFile:
    """What a storage writes: a random name, and the detected type (object storage records it as the
    object's ``Content-Type``; core/storage.py)."""
    file = ContentFile(data, name=f"{uuid.uuid4().hex}{extension}")
    file.content_type = content_type
    return file


def check_uploads(files, *, field: str) -> list[CheckedUpload]:
    """Several images under one field (dispute photos): every one checked before any is stored."""
    return [check_upload(file, field=field) for file in files]


def _not_allowed(field: str, allow_pdf: bool) -> ValidationFailed:
    allowed = _("a JPEG, PNG or WebP image or a PDF") if allow_pdf else _("a JPEG, PNG or WebP image")
    return _refuse(field, _("Upload %(allowed)s.") % {"allowed": allowed})


def _rebuilt_image(data: bytes, *, field: str, allow_pdf: bool) -> tuple[bytes, str]:
    from PIL import Image, ImageOps

    limit = max_image_pixels()
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
                fmt = image.format
                width, height = image.size
                if fmt not in IMAGE_FORMATS:
                    raise _not_allowed(field, allow_pdf)
                if width * height > limit:
                    raise _too_many_pixels(field, width, height, limit)
                image.seek(0)
                image.load()
                pixels = ImageOps.exif_transpose(image)
                return _encode(pixels, fmt), fmt
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(field, 0, 0, limit) from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for bytes that are not a whole image
        raise _not_allowed(field, allow_pdf) from None


def _too_many_pixels(field: str, width: int, height: int, limit: int) -> ValidationFailed:
    if width and height:
        return _refuse(field, _("The image is %(width)s × %(height)s pixels; at most %(mp)s megapixels are "
                                "allowed.") % {"width": width, "height": height, "mp": limit // 1_000_000})
    return _refuse(field, _("The image has more than %(mp)s megapixels.") % {"mp": limit // 1_000_000})


def _encode(image, fmt: str) -> bytes:
    """The pixels alone, in the same format: no metadata, no trailing bytes."""
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def _check_pdf(data: bytes, *, field: str) -> None:
    if not _PDF_HEADER.match(data) or b"startxref" not in data[-_PDF_TAIL_BYTES:] \
            or b"%%EOF" not in data[-_PDF_TAIL_BYTES:] or not re.search(rb"\d+\s+\d+\s+obj\b", data):
        raise _refuse(field, _("This is not a complete PDF document."))
    for chunk in _pdf_texts(data, field=field):
        if _MARKUP.search(chunk):
            raise _refuse(field, _("The PDF carries web content; upload a plain document."))
        if _active_names(chunk):
            raise _refuse(field, _("The PDF carries scripts, actions or attachments; upload a plain document."))


def _pdf_texts(data: bytes, *, field: str):
    """The file itself, then each of its streams inflated; a PDF that inflates past the budget is
    refused rather than left half read."""
    yield data
    budget = _PDF_INFLATE_LIMIT
    for match in _PDF_STREAM.finditer(data):
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue  # not a Flate stream (a JPEG image, a font in another filter): no names to read
        budget -= len(inflated)
        if budget <= 0 or inflater.unconsumed_tail:
            raise _refuse(field, _("The PDF is too large to check once uncompressed."))
        yield inflated


def _active_names(chunk: bytes) -> bool:
    for match in _PDF_NAME.finditer(chunk):
        name = _PDF_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name in PDF_ACTIVE_NAMES:
            return True
    return False
