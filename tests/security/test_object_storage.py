"""User files on S3-compatible object storage (issue #13 item 6), against a real S3 server.

``tests/s3_server.py`` runs moto's S3 server (moto[server]) as a process of its own on 127.0.0.1,
with the presigned-URL checks S3 makes and moto leaves out (signature, expiry). The storages are
the ones settings.py builds from the S3_* variables (marketplace/storages.py), pointed at it:

- every upload field lands in its bucket (public: product images, shop logos, stream covers;
  private: inspection reports, credentials, dispute photos), still checked and renamed by
  core/uploads.py, with its type and ``attachment`` as the object's headers, and nothing on disk;
- a public file's URL in the API answer is the bucket's, fetched over HTTP with no credentials;
- a private file is refused by the server without a signature (403) and after its signature's
  ``S3_SIGNED_URL_SECONDS`` (403), and a signed URL made longer is refused (403); the signed URL
  works, and it is given only to a caller the API lets see the file: others get 404 and no URL;
- ``core.W002`` looks at where S3 serves files from.

The local disk (the embedded default) is what the rest of the suite runs on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import time_machine
from django.conf import settings

from marketplace.storages import s3_media_url, s3_storages
from tests.security.test_uploads import UPLOADS, _send
from tests.security.world import client_for
from tests.stack import ROOT, free_port
from tests.uploads import image_file, pdf_bytes, pdf_file

pytestmark = pytest.mark.django_db

PUBLIC = {"product-image", "shop-logo", "stream-cover"}
PRIVATE = {"inspection-report", "credential", "dispute-photos"}
ACCESS_KEY, SECRET_KEY = "cunbo-test-access", "cunbo-test-secret-" + "s" * 20


@dataclass
class S3:
    endpoint: str
    public: str = "cunbo-public"
    private: str = "cunbo-private"

    @property
    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def storages(self, **overrides) -> tuple[dict, dict]:
        return s3_storages(endpoint_url=self.endpoint, public_bucket=self.public, private_bucket=self.private,
                           access_key=ACCESS_KEY, secret_key=SECRET_KEY, **overrides)


def _wait_for(url: str, process, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"the S3 server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the S3 server did not start")


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "server.log"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"), "PYTHONUNBUFFERED": "1",
           "S3_TEST_ACCESS_KEY": ACCESS_KEY, "S3_TEST_SECRET_KEY": SECRET_KEY}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "s3_server.py"), str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = S3(endpoint=f"http://127.0.0.1:{port}")
        _wait_for(server.endpoint + "/", process)
        client = server.client
        client.create_bucket(Bucket=server.public)
        client.create_bucket(Bucket=server.private)
        # The public bucket is readable by anyone through its policy (no object ACLs), as on AWS.
        client.put_bucket_policy(Bucket=server.public, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{server.public}/*"}]}))
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def on_s3(settings, s3_server):
    """The app's storages on the S3 server, as settings.py makes them from the S3_* variables."""
    public, private = s3_server.storages()
    settings.STORAGES = {**settings.STORAGES, "default": private, "public": public, "private": private}
    settings.S3_ENABLED, settings.S3_ENDPOINT_URL = True, s3_server.endpoint
    settings.S3_PUBLIC_BUCKET, settings.S3_PRIVATE_BUCKET = s3_server.public, s3_server.private
    settings.S3_SIGNED_URL_SECONDS, settings.S3_PUBLIC_BASE_URL = 300, ""
    settings.MEDIA_URL = s3_media_url(endpoint_url=s3_server.endpoint, public_bucket=s3_server.public)
    settings.SERVE_MEDIA = False
    return s3_server


def fetch(url: str, *, method: str = "GET"):
    """A plain HTTP request, no credentials: what a browser or an app does with the URL. Its status,
    headers (case-insensitive) and body."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def unsigned(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _object(s3: S3, bucket: str, key: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        return s3.client.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return None


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", list(UPLOADS))
def test_each_upload_lands_checked_in_its_bucket_and_not_on_disk(world, on_s3, endpoint):
    spec = UPLOADS[endpoint]
    response = _send(world, spec, image_file("IMG_my-farm.jpg", exif_gps=True, size=(40, 30)))
    assert response.status_code in (200, 201), response.content[:300]
    stored = spec.stored(world, response)
    assert "my-farm" not in stored.name and stored.name.endswith(".jpg")
    here, there = (on_s3.public, on_s3.private) if endpoint in PUBLIC else (on_s3.private, on_s3.public)
    head = _object(on_s3, here, stored.name)
    assert head is not None, f"{stored.name} is not in {here}"
    assert _object(on_s3, there, stored.name) is None
    assert head["ContentType"] == "image/jpeg" and head["ContentDisposition"] == "attachment"
    body = on_s3.client.get_object(Bucket=here, Key=stored.name)["Body"].read()
    assert body.startswith(b"\xff\xd8") and b"SpyCam" not in body and b"Exif" not in body  # re-encoded
    assert not (Path(settings.MEDIA_ROOT) / stored.name).exists()


@pytest.mark.slow
def test_a_refused_upload_stores_nothing_in_either_bucket(world, on_s3):
    before = {bucket: on_s3.client.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
              for bucket in (on_s3.public, on_s3.private)}
    for endpoint in UPLOADS:
        bad = image_file("x.gif", fmt="GIF")
        assert _send(world, UPLOADS[endpoint], bad).status_code == 400
    after = {bucket: on_s3.client.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
             for bucket in (on_s3.public, on_s3.private)}
    assert after == before


@pytest.mark.slow
def test_a_product_image_url_is_the_public_bucket_and_serves_the_bytes_without_credentials(world, on_s3):
    response = client_for(world.a.merchant_user).post(f"/api/products/{world.a.product.pk}/images/",
                                                      {"image": image_file("apple.png", fmt="PNG")},
                                                      format="multipart")
    assert response.status_code == 201, response.content[:300]
    url = response.json()["url"]
    assert url.startswith(f"{on_s3.endpoint}/{on_s3.public}/catalog/products/") and "?" not in url
    detail = client_for(None).get(f"/api/products/{world.a.product.pk}/").json()
    assert url in [image["url"] for image in detail["images"]]
    status, headers, body = fetch(url)
    assert status == 200 and body.startswith(b"\x89PNG")
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == "attachment"


@pytest.mark.slow
def test_a_public_base_url_is_what_the_api_answers(world, on_s3, settings):
    public, private = on_s3.storages(public_base_url="https://cdn.cunbo-media.example.net/u")
    settings.STORAGES = {**settings.STORAGES, "public": public}
    response = client_for(world.a.merchant_user).patch(f"/api/merchants/{world.a.shop.pk}/",
                                                       {"logo": image_file("logo.jpg")}, format="multipart")
    assert response.status_code == 200, response.content[:300]
    logo = response.json()["logo"]
    assert logo.startswith("https://cdn.cunbo-media.example.net/u/merchants/logos/") and logo.endswith(".jpg")
    key = logo.removeprefix("https://cdn.cunbo-media.example.net/u/")
    assert fetch(f"{on_s3.endpoint}/{on_s3.public}/{key}")[0] == 200


def _signed_parts(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _credential(world, s3) -> tuple[dict, bytes]:
    data = pdf_bytes()
    response = client_for(world.a.merchant_user).post(
        f"/api/merchants/{world.a.shop.pk}/credentials/",
        {"kind": "organic_cert", "number": "124OP2600777", "issuer": "中绿华夏有机产品认证中心",
         "issued_at": "2026-01-01", "expires_at": "2030-01-01", "file": pdf_file("my licence.pdf", data)},
        format="multipart")
    assert response.status_code == 201, response.content[:300]
    return response.json(), data


@pytest.mark.slow
def test_a_credential_is_private_signed_for_its_shop_and_county_and_refused_unsigned(world, on_s3):
    from merchants.models import Credential

    body, data = _credential(world, on_s3)
    credential = Credential.objects.get(pk=body["id"])
    assert _object(on_s3, on_s3.private, credential.file.name) is not None
    assert on_s3.endpoint not in json.dumps(body)  # the API answers its download path, not a bucket URL
    for allowed in (world.a.merchant_user, world.a.operator):
        response = client_for(allowed).get(body["file_url"])
        assert response.status_code == 302, response.status_code
        assert response["Cache-Control"] == "private, no-store"
        location = response["Location"]
        assert location.startswith(f"{on_s3.endpoint}/{on_s3.private}/private/credentials/")
        assert _signed_parts(location)["X-Amz-Expires"] == "300"
        status, headers, got = fetch(location)
        assert status == 200 and got == data
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Disposition"] == f'attachment; filename="credential-{credential.pk}.pdf"'
    # The object's own URL, without a signature: the bucket refuses it, as it refuses a signature
    # stretched to a longer life.
    assert fetch(unsigned(location))[0] == 403
    assert fetch(location.replace("X-Amz-Expires=300", "X-Amz-Expires=86400"))[0] == 403
    assert fetch(f"{on_s3.endpoint}/{on_s3.public}/{credential.file.name}")[0] in (403, 404)


@pytest.mark.slow
def test_a_signed_url_stops_working_after_its_five_minutes(world, on_s3):
    body, data = _credential(world, on_s3)
    now = dt.datetime.now(dt.UTC)
    with time_machine.travel(now - dt.timedelta(seconds=240)):  # signed 4 minutes ago: 1 minute left
        fresh = client_for(world.a.merchant_user).get(body["file_url"])["Location"]
    with time_machine.travel(now - dt.timedelta(seconds=310)):  # signed 5 min 10 s ago
        stale = client_for(world.a.merchant_user).get(body["file_url"])["Location"]
    assert fetch(fresh)[:3:2] == (200, data)
    status, _headers, error = fetch(stale)
    assert status == 403 and b"AccessDenied" in error


@pytest.mark.slow
def test_others_get_404_and_no_url_for_a_credential(world, on_s3):
    body, _data = _credential(world, on_s3)
    for name, client in world.clients().items():
        response = client.get(body["file_url"])
        assert response.status_code in (401, 404), (name, response.status_code)
        assert "Location" not in response
        assert on_s3.endpoint not in response.content.decode()
    # Shown publicly once verified, with no file URL.
    from merchants.models import Credential

    Credential.objects.filter(pk=body["id"]).update(status=Credential.Status.APPROVED)
    page = client_for(None).get(f"/api/merchants/{world.a.shop.pk}/").content.decode()
    assert on_s3.private not in page and "X-Amz-Signature" not in page


@pytest.mark.slow
def test_dispute_photos_are_private_and_signed_only_for_the_dispute_parties_and_county(world, on_s3):
    response = client_for(world.a.consumer).post(
        f"/api/merchant-orders/{world.mo_shippable.pk}/disputes/",
        {"reason": "damaged", "requested_refund": "1.00", "text": "压坏了", "photos": [image_file("box.jpg")]},
        format="multipart")
    assert response.status_code == 201, response.content[:300]
    dispute = response.json()
    [photo] = dispute["photos"]
    assert photo.startswith(f"{on_s3.endpoint}/{on_s3.private}/disputes/") and "X-Amz-Signature=" in photo
    status, headers, got = fetch(photo)
    assert status == 200 and got.startswith(b"\xff\xd8") and headers["Content-Disposition"] == "attachment"
    assert fetch(unsigned(photo))[0] == 403
    for allowed in (world.a.consumer, world.a.merchant_user, world.a.operator):
        seen = client_for(allowed).get(f"/api/disputes/{dispute['id']}/")
        assert seen.status_code == 200
        [again] = seen.json()["photos"]
        assert unsigned(again) == unsigned(photo) and fetch(again)[0] == 200
    for name, client in world.clients().items():
        seen = client.get(f"/api/disputes/{dispute['id']}/")
        assert seen.status_code in (401, 404), (name, seen.status_code)
        assert on_s3.endpoint not in seen.content.decode()
        listed = client.get("/api/disputes/")
        assert on_s3.endpoint not in listed.content.decode(), name


@pytest.mark.slow
def test_an_inspection_report_is_private_and_its_trace_page_gives_a_signed_url(world, on_s3):
    response = client_for(world.a.merchant_user).post(
        f"/api/products/{world.a.product.pk}/batches/",
        {"harvested_at": "2026-11-30", "inspection.agency": "潍坊市农产品质量检测中心",
         "inspection.inspected_at": "2026-12-01", "inspection.result": "pass",
         "inspection.report": pdf_file("report.pdf")}, format="multipart")
    assert response.status_code == 201, response.content[:300]
    trace = client_for(None).get(f"/api/trace/{response.json()['trace_code']}/").json()
    url = trace["inspection"]["report_url"]
    assert url.startswith(f"{on_s3.endpoint}/{on_s3.private}/catalog/inspections/")
    assert fetch(url)[0] == 200
    assert fetch(unsigned(url))[0] == 403


# --- The embedded default and the configuration --------------------------------------------------

def test_the_default_keeps_both_storages_on_the_local_disk():
    from django.core.files.storage import FileSystemStorage, storages

    from catalog.models import HarvestBatch, ProductImage
    from core.storage import private_storage, public_storage
    from livestream.models import Stream
    from merchants.models import Credential, Merchant
    from orders.models import DisputePhoto

    assert isinstance(storages["public"], FileSystemStorage) and isinstance(storages["private"], FileSystemStorage)
    routed = {ProductImage.image: public_storage, Merchant.logo: public_storage, Stream.cover: public_storage,
              HarvestBatch.inspection_report: private_storage, Credential.file: private_storage,
              DisputePhoto.image: private_storage}
    for descriptor, callable_storage in routed.items():
        field = descriptor.field
        # Migrations name the callable, not a backend: changing backends needs no migration.
        assert field.deconstruct()[3]["storage"] is callable_storage, field


def _settings_in(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"), "DEBUG": "1"}
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'marketplace.settings'; django.setup(); "
            "from django.conf import settings as s; print(s.STORAGES['public']['BACKEND'], "
            "s.STORAGES['private']['BACKEND'], s.MEDIA_URL, s.SERVE_MEDIA)")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


def test_the_s3_variables_select_the_buckets_and_half_of_them_refuses_to_start():
    local = _settings_in({})
    assert local.stdout.split() == ["django.core.files.storage.FileSystemStorage"] * 2 + ["/media/", "True"], local
    s3 = _settings_in({"S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com", "S3_PUBLIC_BUCKET": "pub",
                       "S3_PRIVATE_BUCKET": "priv", "S3_PUBLIC_BASE_URL": "https://cdn.cunbo-media.example.net/"})
    assert s3.stdout.split() == ["storages.backends.s3.S3Storage"] * 2 + ["https://cdn.cunbo-media.example.net/",
                                                                         "False"], s3
    for partial in ({"S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com"},
                    {"S3_ENDPOINT_URL": "https://oss.example.cn", "S3_PUBLIC_BUCKET": "a", "S3_PRIVATE_BUCKET": "a"},
                    {"S3_ENDPOINT_URL": "https://oss.example.cn", "S3_PUBLIC_BUCKET": "a", "S3_PRIVATE_BUCKET": "b",
                     "S3_PUBLIC_BASE_URL": "cdn.example.net"}):
        result = _settings_in(partial)
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr, partial


@pytest.mark.parametrize("endpoint, base, allowed, warns", [
    ("https://s3.cunbo.example.cn", "", [".cunbo.example.cn"], True),  # the bucket on a sub-domain of the API
    ("https://oss-cn-hangzhou.aliyuncs.com", "https://cunbo.example.cn/media/", ["cunbo.example.cn"], True),
    ("https://cunbo.example.cn", "https://cdn.cunbo-media.example.net/", ["cunbo.example.cn"], True),  # signed URLs
    ("https://oss-cn-hangzhou.aliyuncs.com", "", ["cunbo.example.cn"], False),
    ("https://oss-cn-hangzhou.aliyuncs.com", "https://cdn.cunbo-media.example.net/", ["cunbo.example.cn"], False),
])
def test_w002_looks_at_where_s3_serves_files(settings, endpoint, base, allowed, warns):
    from core.checks import media_on_another_origin

    settings.DEBUG, settings.SERVE_MEDIA, settings.ALLOWED_HOSTS = False, False, allowed
    settings.S3_ENABLED, settings.S3_ENDPOINT_URL, settings.S3_PUBLIC_BASE_URL = True, endpoint, base
    settings.MEDIA_URL = s3_media_url(endpoint_url=endpoint, public_bucket="pub", public_base_url=base)
    assert [w.id for w in media_on_another_origin(None)] == (["core.W002"] if warns else [])
