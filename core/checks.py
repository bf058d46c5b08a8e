from django.conf import settings
from django.core.checks import Error, Warning, register


@register(deploy=True)
def sealing_keys(app_configs, **kwargs):
    """Sealed numbers need keys of their own, or SECRET_KEY can never be rotated (core/sealing.py)."""
    missing = [name for name in ("FIELD_ENCRYPTION_KEYS", "FIELD_LOOKUP_KEY") if not getattr(settings, name)]
    if not missing:
        return []
    return [Warning(f"{' and '.join(missing)} not set: personal numbers are sealed with keys derived from "
                    "SECRET_KEY, which then cannot be rotated without losing them.",
                    hint="FIELD_ENCRYPTION_KEYS: python -c 'from cryptography.fernet import Fernet; "
                         "print(Fernet.generate_key().decode())'; FIELD_LOOKUP_KEY: secrets.token_urlsafe(32).",
                    id="core.W001")]


@register()
def sealing_keys_valid(app_configs, **kwargs):
    """A mistyped key would only fail at the first sealed read or write: refuse to start instead."""
    from cryptography.fernet import Fernet

    errors = []
    for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(Error(f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                                "(32 bytes, url-safe base64).",
                                hint="python -c 'from cryptography.fernet import Fernet; "
                                     "print(Fernet.generate_key().decode())'",
                                id="core.E001"))
    return errors


@register(deploy=True)
def media_on_another_origin(app_configs, **kwargs):
    """User files must not be served from the API's origin in production (core/media.py): a file
    that a browser renders there could act with the API's cookies and origin. On the local disk that
    is ``MEDIA_URL``; on S3 (core/storage.py) it is where public files are read from
    (``S3_PUBLIC_BASE_URL``, else the endpoint) and where signed URLs point (the endpoint)."""
    from urllib.parse import urlsplit

    if settings.DEBUG:
        return []
    ours = {h.lstrip(".").lower() for h in settings.ALLOWED_HOSTS}

    def on_our_origin(name: str, url: str) -> str | None:
        host = urlsplit(url).hostname
        if not host:
            return f"{name} is {url!r}, a path on the API's own origin"
        if host.lower() in ours or any(h and host.lower().endswith("." + h) for h in ours):
            return f"{name}'s host {host} is one of ALLOWED_HOSTS"
        return None

    if getattr(settings, "S3_ENABLED", False):
        urls = [("S3_PUBLIC_BASE_URL" if settings.S3_PUBLIC_BASE_URL else "S3_ENDPOINT_URL",
                 settings.S3_PUBLIC_BASE_URL or settings.S3_ENDPOINT_URL)]
        if settings.S3_PUBLIC_BASE_URL:
            urls.append(("S3_ENDPOINT_URL (signed URLs of private files)", settings.S3_ENDPOINT_URL))
    else:
        urls = [("MEDIA_URL", settings.MEDIA_URL)]
    problems = [problem for name, url in urls if (problem := on_our_origin(name, url))]
    if settings.SERVE_MEDIA:
        problems.append("SERVE_MEDIA is on")
    if not problems:
        return []
    return [Warning(f"{'; '.join(problems)}: uploaded files would be served from the API's origin.",
                    hint="Serve user files from another origin: on the local disk MEDIA_ROOT from a host such "
                         "as https://media.example.cn/ named by MEDIA_URL; on S3 the buckets' endpoint and "
                         "S3_PUBLIC_BASE_URL (a CDN host), never a host of ALLOWED_HOSTS. Leave SERVE_MEDIA off.",
                    id="core.W002")]
