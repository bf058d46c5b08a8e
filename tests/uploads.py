"""Upload payloads for the tests: good files and hostile ones (image bombs, wrong types, fake and
active PDFs, polyglots). Built here from bytes, so each is exactly what it claims to test."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_bytes(*extra_objects: bytes, catalog_extra: bytes = b"", compress: bytes | None = None) -> bytes:
    """A real minimal PDF (header, objects, xref table, trailer, startxref, %%EOF). ``catalog_extra``
    goes into the catalog dictionary; ``compress`` becomes a Flate stream object."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>", *extra_objects]
    if compress is not None:
        packed = zlib.compress(compress)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_file(name="cert.pdf", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else pdf_bytes(), content_type="application/pdf")


def image_bytes(fmt="JPEG", size=(8, 6), *, exif_gps=False) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    extra = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "SpyCam Inc."  # Make
        exif[0x8825] = {1: "N", 2: (36.0, 52.0, 30.0), 3: "E", 4: (118.0, 47.0, 15.0)}  # GPS position
        extra["exif"] = exif.tobytes()
    image.save(buffer, fmt, **extra)
    return buffer.getvalue()


def image_file(name="photo.jpg", fmt="JPEG", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(fmt, **kwargs), content_type=f"image/{fmt.lower()}")


def png_bomb_bytes(width=10_000, height=10_000) -> bytes:
    """A valid PNG header and one compressed IDAT for a ``width`` × ``height`` grey image: 100
    megapixels in a few hundred kilobytes (the rows are all zero, which compresses to nothing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def hostile_uploads(*, pdf_allowed: bool) -> dict[str, SimpleUploadedFile]:
    """Every file that must be refused, by name (the test id)."""
    files = {
        "png-100-megapixels": SimpleUploadedFile("cover.png", png_bomb_bytes(), content_type="image/png"),
        "bmp": image_file("cover.bmp", "BMP"),
        "gif": image_file("cover.gif", "GIF"),
        "html-named-jpg": SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script></html>",
                                             content_type="image/jpeg"),
        "truncated-jpeg": SimpleUploadedFile("x.jpg", image_bytes("JPEG", (64, 64))[:200], content_type="image/jpeg"),
        "svg": SimpleUploadedFile("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                                  content_type="image/svg+xml"),
        "empty": SimpleUploadedFile("x.png", b"", content_type="image/png"),
    }
    if pdf_allowed:
        files |= {
            "pdf-five-bytes": pdf_file("c.pdf", b"%PDF-<html><script>alert(document.cookie)</script></html>"),
            "pdf-header-only": pdf_file("c.pdf", b"%PDF-1.4\n" + b"0" * 300),
            "pdf-html-polyglot": pdf_file("c.pdf", pdf_bytes(b"<< /Length 44 >>\nstream\n<html><script>alert(1)</script>"
                                                             b"</html>\nendstream")),
            "pdf-javascript": pdf_file("c.pdf", pdf_bytes(b"<< /S /JavaScript /JS (app.alert(1)) >>",
                                                          catalog_extra=b"/OpenAction 4 0 R ")),
            "pdf-escaped-javascript": pdf_file("c.pdf", pdf_bytes(b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>")),
            "pdf-launch": pdf_file("c.pdf", pdf_bytes(b"<< /S /Launch /F (cmd.exe) >>")),
            "pdf-action-in-compressed-stream": pdf_file("c.pdf", pdf_bytes(
                compress=b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")),
            "pdf-embedded-file": pdf_file("c.pdf", pdf_bytes(b"<< /Type /EmbeddedFile /Length 0 >>")),
        }
    else:
        files["pdf"] = pdf_file()
    return files
