"""The S3 storages of settings.py (core/storage.py), built from the S3_* variables.

A plain function, no Django import: settings.py calls it once, and the object-storage tests build
the same two storages for their own S3 server with it.
"""

from __future__ import annotations

BACKEND = "storages.backends.s3.S3Storage"


class S3ConfigError(ValueError):
    pass


def s3_storages(*, endpoint_url: str, public_bucket: str, private_bucket: str, access_key: str = "",
                secret_key: str = "", region: str = "us-east-1", addressing_style: str = "path",
                public_base_url: str = "", signed_url_seconds: int = 300, public_acl: str = "") -> tuple[dict, dict]:
    """``(STORAGES["public"], STORAGES["private"])`` for django-storages' S3 backend.

    public: read by anyone, through a bucket policy (or ``public_acl="public-read"`` where the
    storage uses ACLs), at ``public_base_url`` (a CDN in front of the bucket) or the endpoint; the
    URL is never signed. private: the bucket's objects readable only through signed URLs, valid
    ``signed_url_seconds``. Both store every object as an attachment with its checked type.
    """
    if not (endpoint_url and public_bucket and private_bucket):
        raise S3ConfigError("Set all of S3_ENDPOINT_URL, S3_PUBLIC_BUCKET and S3_PRIVATE_BUCKET "
                            "(or none of them, for the local disk).")
    if public_bucket == private_bucket:
        raise S3ConfigError("S3_PUBLIC_BUCKET and S3_PRIVATE_BUCKET must be two buckets.")
    if not 1 <= signed_url_seconds <= 7 * 24 * 3600:
        raise S3ConfigError("S3_SIGNED_URL_SECONDS must be between 1 and 604800 (S3's limit).")
    common = {
        "endpoint_url": endpoint_url.rstrip("/"),
        # Empty: boto3's own chain (AWS_* variables, an instance or pod role).
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "region_name": region,
        "addressing_style": addressing_style,
        "signature_version": "s3v4",
        "file_overwrite": False,
    }
    public = {**common, "bucket_name": public_bucket, "querystring_auth": False, "default_acl": public_acl or None,
              "object_parameters": {"ContentDisposition": "attachment",
                                    "CacheControl": "public, max-age=31536000, immutable"}}
    if public_base_url:
        scheme, _, rest = public_base_url.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/"):
            raise S3ConfigError("S3_PUBLIC_BASE_URL must be an absolute http(s) URL (https://cdn.example.cn/).")
        public.update(custom_domain=rest.rstrip("/"), url_protocol=f"{scheme}:")
    private = {**common, "bucket_name": private_bucket, "querystring_auth": True,
               # No ACL sent: the bucket's own (private) applies, and buckets with ACLs disabled accept the write.
               "querystring_expire": signed_url_seconds, "default_acl": None,
               "object_parameters": {"ContentDisposition": "attachment", "CacheControl": "private, no-store"}}
    return {"BACKEND": BACKEND, "OPTIONS": public}, {"BACKEND": BACKEND, "OPTIONS": private}


def s3_media_url(*, endpoint_url: str, public_bucket: str, public_base_url: str = "") -> str:
    """Where public files are read from (``MEDIA_URL`` with S3; core.W002 checks its origin)."""
    return (public_base_url or f"{endpoint_url.rstrip('/')}/{public_bucket}").rstrip("/") + "/"
