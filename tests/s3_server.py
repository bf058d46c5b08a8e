"""An S3-compatible server for the tests: moto's (``moto[server]``), on 127.0.0.1, started by
``tests/core/test_object_storage.py`` as a process of its own.

moto answers an anonymous read of an object that no policy or ACL makes public with 403, as S3
does, but it takes any query string holding ``Signature=`` as a valid signed URL: it checks neither
the signature nor the expiry. S3 checks both, and the product relies on it (a private file's URL
must stop working after ``S3_SIGNED_URL_SECONDS``). So in front of moto's WSGI application this
verifies what S3 verifies for a presigned (SigV4 query-string) request before moto sees it: the
access key, the signature over the method, path, query and signed headers, and
``X-Amz-Date + X-Amz-Expires`` against the clock. A request signed in the headers (boto3's own calls)
goes to moto unchanged.

    python tests/s3_server.py PORT    # S3_TEST_ACCESS_KEY / S3_TEST_SECRET_KEY in the environment
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import sys
from urllib.parse import parse_qsl, quote

SIGNED = "X-Amz-Signature"


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def query_auth_problem(environ: dict, *, keys: dict[str, str], now: dt.datetime) -> str | None:
    """Why S3 would refuse this presigned request (an error code), or None if it is valid."""
    params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    given = dict(params)
    try:
        access_key, date, region, service, terminal = given["X-Amz-Credential"].split("/")
        stamp = dt.datetime.strptime(given["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        expires = int(given["X-Amz-Expires"])
        signed_headers = given["X-Amz-SignedHeaders"].split(";")
        signature = given[SIGNED]
    except (KeyError, ValueError):
        return "AuthorizationQueryParametersError"
    if given.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or terminal != "aws4_request" or not 1 <= expires <= 604800:
        return "AuthorizationQueryParametersError"
    secret = keys.get(access_key)
    if secret is None:
        return "InvalidAccessKeyId"
    if now > stamp + dt.timedelta(seconds=expires):
        return "AccessDenied"  # S3: "Request has expired"
    raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/")))
    raw_path = raw_path.split("?", 1)[0]
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params) if k != SIGNED)
    headers = {"host": environ.get("HTTP_HOST", "")}
    for name in signed_headers:
        if name != "host":
            headers[name] = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    canonical = "\n".join([environ["REQUEST_METHOD"], raw_path, query, canonical_headers,
                           ";".join(signed_headers), "UNSIGNED-PAYLOAD"])
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", given["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "SignatureDoesNotMatch"


class QueryAuthCheck:
    """WSGI middleware: presigned requests are verified as S3 verifies them, then passed on."""

    def __init__(self, app, *, keys: dict[str, str]):
        self.app, self.keys = app, keys

    def __call__(self, environ, start_response):
        if SIGNED in environ.get("QUERY_STRING", ""):
            problem = query_auth_problem(environ, keys=self.keys, now=dt.datetime.now(dt.UTC))
            if problem is not None:
                body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{problem}</Code>'
                        f"<Message>refused by tests/s3_server.py</Message></Error>").encode()
                start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                                 ("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)


def main() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    port = int(sys.argv[1])
    keys = {os.environ["S3_TEST_ACCESS_KEY"]: os.environ["S3_TEST_SECRET_KEY"]}
    app = QueryAuthCheck(DomainDispatcherApplication(create_backend_app), keys=keys)
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
