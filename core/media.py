"""User files served by the app itself (development and the embedded run; ``SERVE_MEDIA``).

Production serves them from another origin (``MEDIA_URL``, or the S3 buckets of core/storage.py;
core/checks.py). When the app does
serve them, every file goes out as an attachment with ``nosniff`` and a sandboxing CSP: an uploaded
file is never rendered as a page of the API's origin, whatever its bytes (``<img>`` tags still show
images, since ``Content-Disposition`` only governs navigation). The ``private/`` prefix (credentials)
is never served here; its files go out through their API, to their owner and county staff only.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404
from django.views.static import serve

PRIVATE_PREFIX = "private/"


def safe_filename(filename: str | None) -> str:
    """A file name fit for a ``Content-Disposition`` header: ASCII letters, digits, ``._-``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", filename or "")[:100]


def protect_user_file(response, *, filename: str | None = None):
    """The headers every user file is sent with (here and by the credential download)."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    safe = safe_filename(filename)
    response["Content-Disposition"] = f'attachment; filename="{safe}"' if safe else "attachment"
    return response


def media_serve(request, path: str):
    if path.lstrip("/").startswith(PRIVATE_PREFIX) or "\x00" in path:
        raise Http404()
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    return protect_user_file(response, filename=path.rsplit("/", 1)[-1])
