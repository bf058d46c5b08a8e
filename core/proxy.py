"""The client's address and scheme behind a proxy, believed only from the proxies we run.

In production nginx sits in front of both servers. The ASGI server (uvicorn ``--proxy-headers``)
rewrites the client address itself, from the peers named in ``FORWARDED_ALLOW_IPS``; the WSGI server
does not, so this middleware does the same for every request, with the same setting:

- the peer is one of ``FORWARDED_ALLOW_IPS``: ``REMOTE_ADDR`` becomes the rightmost address of
  ``X-Forwarded-For`` that is not itself a trusted proxy (entries left of it were written by the
  client and prove nothing), and ``X-Forwarded-Proto`` stands;
- any other peer: both headers are dropped, so neither the per-address limits (which read
  ``REMOTE_ADDR``) nor ``SECURE_PROXY_SSL_HEADER`` can be steered by a client that reached a server
  directly.

Under ASGI the peer is already the client, so the second rule applies and nothing changes.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_REAL_IP")


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[tuple, bool]:
    if "*" in allowed:
        return (), True
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in allowed if entry.strip()), False


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_trusted_proxy(address: str) -> bool:
    networks, everyone = _networks(tuple(settings.FORWARDED_ALLOW_IPS))
    if everyone:
        return True
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str) -> str:
    """The client ``peer`` (a trusted proxy) forwarded for: the rightmost untrusted valid entry."""
    for entry in reversed(forwarded_for.split(",")):
        parsed = _address(entry)
        if parsed is None:
            break  # a malformed hop: believe nothing left of it
        if not is_trusted_proxy(str(parsed)):
            return str(parsed)
    return peer


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        if peer and is_trusted_proxy(peer):
            forwarded_for = meta.get("HTTP_X_FORWARDED_FOR", "")
            if forwarded_for:
                meta["REMOTE_ADDR"] = forwarded_client(peer, forwarded_for)
        else:
            for header in FORWARDED:
                meta.pop(header, None)
        return self.get_response(request)
