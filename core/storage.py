"""Where user files live: two named storages, ``STORAGES["public"]`` and ``STORAGES["private"]``.

Every file field names one of them through a callable here (``storage=public_storage`` /
``storage=private_storage``); Django writes the callable into migrations by reference, so moving
from the local disk to object storage (or between buckets) is a settings change, never a migration.

- **public**: product images, stream covers, shop logos. Served straight from their storage's URL:
  ``MEDIA_URL`` on the local disk, the public bucket (or ``S3_PUBLIC_BASE_URL``, a CDN in front of
  it) with S3.
- **private**: credential scans, inspection reports, dispute photos. On S3 their bucket is not
  readable without a signature, and ``url()`` is a signed URL that expires after
  ``S3_SIGNED_URL_SECONDS``; it is only ever given to a caller the API has already let see the
  object (the dispute's parties and county staff, the credential's shop and county staff, a batch's
  public trace page). On the local disk they stay where they were (the credential download streams
  them through its API; ``private/`` is never served by ``/media/``).

Which backend each name has is chosen in marketplace/settings.py from the environment (the S3
variables, README "Configuration"); the embedded default is the local disk for both. Every file
still goes through ``core/uploads.py`` before it reaches either.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.http import FileResponse, HttpResponseRedirect
from django.utils.functional import LazyObject, empty

PUBLIC = "public"
PRIVATE = "private"


class _NamedStorage(LazyObject):
    """``storages[alias]``, looked up when first used (and again after a test changes STORAGES)."""

    def __init__(self, alias: str):
        self.__dict__["_alias"] = alias
        super().__init__()

    def _setup(self):
        self._wrapped = storages[self.__dict__["_alias"]]

    # A field copied (model states, forms) keeps naming the same storage, not a snapshot of it.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


_public = _NamedStorage(PUBLIC)
_private = _NamedStorage(PRIVATE)


def public_storage():
    """Files anyone may fetch: product images, stream covers, shop logos."""
    return _public


def private_storage():
    """Files only some callers may see: credentials, inspection reports, dispute photos."""
    return _private


def _reset(*, setting, **kwargs):
    if setting in ("STORAGES", "MEDIA_ROOT", "MEDIA_URL"):
        _public._wrapped = empty
        _private._wrapped = empty


setting_changed.connect(_reset, dispatch_uid="core.storage.reset")


def signs_urls(storage) -> bool:
    """Whether ``storage.url()`` is a signed, expiring URL (S3 with querystring auth)."""
    return bool(getattr(storage, "querystring_auth", False)) and hasattr(storage, "bucket_name")


def private_file_response(fieldfile, *, filename: str, content_type: str | None = None):
    """The answer to "download this private file" once the caller has been allowed to.

    With a signing storage: a redirect to a signed URL that expires after ``S3_SIGNED_URL_SECONDS``
    (the object storage sends the bytes, as an attachment named ``filename``). On the local disk: the
    bytes through the app, with the user-file headers of core/media.py.
    """
    from .media import protect_user_file, safe_filename

    storage = fieldfile.storage
    if signs_urls(storage):
        disposition = f'attachment; filename="{safe_filename(filename)}"'
        parameters = {"ResponseContentDisposition": disposition}
        if content_type:
            parameters["ResponseContentType"] = content_type
        response = HttpResponseRedirect(storage.url(fieldfile.name, parameters=parameters,
                                                    expire=settings.S3_SIGNED_URL_SECONDS))
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    response = FileResponse(fieldfile.open("rb"), content_type=content_type or None)
    response["Cache-Control"] = "private, no-store"
    return protect_user_file(response, filename=filename)
