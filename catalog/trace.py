"""The public address of a trace page and its QR code for the label."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.urls import reverse


def trace_url(code: str, *, request=None) -> str:
    """``TRACE_PUBLIC_URL`` with ``{code}`` filled in, or else the absolute URL of the trace page (pages/: what a shopper scanning the box reads)."""
    if settings.TRACE_PUBLIC_URL:
        return settings.TRACE_PUBLIC_URL.replace("{code}", code)
    path = reverse("pages:trace", kwargs={"code": code})
    return request.build_absolute_uri(path) if request is not None else path


def trace_qr_png(url: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
