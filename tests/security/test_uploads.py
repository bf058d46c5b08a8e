"""Every upload field through one check (issue #12, finding 9), through the public API.

The matrix: each upload endpoint (product image, inspection report, credential, shop logo, stream
cover, dispute photos) × each hostile file (tests/uploads.py: a 100-megapixel PNG of a few hundred
kilobytes, a BMP, a GIF, HTML named .jpg, a truncated JPEG, an SVG, an empty file; where PDFs are
allowed, a "PDF" of five magic bytes, a header without structure, an HTML polyglot, /JavaScript with
/OpenAction, escaped names, /Launch, an action hidden in a compressed stream, an embedded file)
→ 400 envelope naming the field, no row changed, no file written. A good JPEG carrying EXIF (GPS,
camera make) is stored under a random name with its metadata gone, and user files are served as
attachments with ``nosniff``.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import Callable

import pytest
from django.conf import settings
from django.utils import timezone

from tests.security.conftest import FIGURES, snapshot, snapshot_diff
from tests.security.world import client_for
from tests.uploads import hostile_uploads, image_file, pdf_file

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|pdf)$")


@dataclass(frozen=True)
class Upload:
    actor: Callable
    method: str
    url: Callable
    body: Callable  # (world, file) -> multipart body
    field: tuple[str, ...]  # where the refusal is named in error.fields
    pdf: bool = False
    stored: Callable | None = None  # (world, response) -> the stored FieldFile


def _today(days=0):
    return (timezone.localdate() + timezone.timedelta(days=days)).isoformat()


def _credential_body(w, file):
    return {"kind": "organic_cert", "number": "124OP2600999", "issuer": "中绿华夏有机产品认证中心",
            "issued_at": _today(-10), "expires_at": _today(300), "file": file}


def _batch_body(w, file):
    return {"harvested_at": _today(-2), "inspection.agency": "潍坊市农产品质量检测中心",
            "inspection.inspected_at": _today(-1), "inspection.result": "pass", "inspection.report": file}


def _dispute_body(w, file):
    return {"reason": "damaged", "requested_refund": "1.00", "text": "压坏了", "photos": [file]}


def _stored_product_image(w, response):
    from catalog.models import ProductImage

    return ProductImage.objects.get(pk=response.json()["id"]).image


def _stored_batch(w, response):
    from catalog.models import HarvestBatch

    return HarvestBatch.objects.get(pk=response.json()["id"]).inspection_report


def _stored_credential(w, response):
    from merchants.models import Credential

    return Credential.objects.get(pk=response.json()["id"]).file


def _stored_logo(w, response):
    w.a.shop.refresh_from_db()
    return w.a.shop.logo


def _stored_cover(w, response):
    w.stream_scheduled.refresh_from_db()
    return w.stream_scheduled.cover


def _stored_dispute_photo(w, response):
    from orders.models import DisputePhoto

    return DisputePhoto.objects.get(dispute_id=response.json()["id"]).image


UPLOADS = {
    "product-image": Upload(lambda w: w.a.merchant_user, "post", lambda w: f"/api/products/{w.a.product.pk}/images/",
                            lambda w, f: {"image": f}, ("image",), stored=_stored_product_image),
    "inspection-report": Upload(lambda w: w.a.merchant_user, "post",
                                lambda w: f"/api/products/{w.a.product.pk}/batches/", _batch_body,
                                ("inspection", "report"), pdf=True, stored=_stored_batch),
    "credential": Upload(lambda w: w.a.merchant_user, "post", lambda w: f"/api/merchants/{w.a.shop.pk}/credentials/",
                         _credential_body, ("file",), pdf=True, stored=_stored_credential),
    "shop-logo": Upload(lambda w: w.a.merchant_user, "patch", lambda w: f"/api/merchants/{w.a.shop.pk}/",
                        lambda w, f: {"logo": f}, ("logo",), stored=_stored_logo),
    "stream-cover": Upload(lambda w: w.a.merchant_user, "patch", lambda w: f"/api/streams/{w.stream_scheduled.pk}/",
                           lambda w, f: {"cover": f}, ("cover",), stored=_stored_cover),
    "dispute-photos": Upload(lambda w: w.a.consumer, "post",
                             lambda w: f"/api/merchant-orders/{w.mo_shippable.pk}/disputes/", _dispute_body,
                             ("photos",), stored=_stored_dispute_photo),
}

HOSTILE = [(endpoint, name) for endpoint, spec in UPLOADS.items() for name in hostile_uploads(pdf_allowed=spec.pdf)]


def _media_files() -> set[str]:
    found = set()
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found.update(os.path.join(root, name) for name in files)
    return found


def _send(world, spec: Upload, file):
    client = client_for(spec.actor(world))
    return getattr(client, spec.method)(spec.url(world), spec.body(world, file), format="multipart")


@pytest.mark.parametrize("endpoint, payload", HOSTILE, ids=[f"{e}-{p}" for e, p in HOSTILE])
def test_a_hostile_upload_is_refused_and_stores_nothing(world, endpoint, payload):
    spec = UPLOADS[endpoint]
    file = hostile_uploads(pdf_allowed=spec.pdf)[payload]
    before, files_before = snapshot(), _media_files()
    response = _send(world, spec, file)
    assert response.status_code == 400, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "invalid"
    fields = error["fields"]
    for key in spec.field:
        assert key in fields, fields
        fields = fields[key]
    assert snapshot_diff(before, snapshot()) == {}
    assert _media_files() == files_before
    FIGURES["uploads"]["refused"] += 1


@pytest.mark.parametrize("endpoint", list(UPLOADS))
def test_a_good_jpeg_is_stored_under_a_random_name_without_its_metadata(world, endpoint):
    from PIL import Image

    spec = UPLOADS[endpoint]
    response = _send(world, spec, image_file("IMG_20261203_my-farm.jpg", exif_gps=True, size=(40, 30)))
    assert response.status_code in (200, 201), response.content[:300]
    stored = spec.stored(world, response)
    name = os.path.basename(stored.name)
    assert RANDOM_NAME.match(name) and name.endswith(".jpg"), stored.name
    assert "my-farm" not in stored.name
    with stored.open("rb") as handle:
        data = handle.read()
    assert b"SpyCam" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (40, 30) and not image.getexif()
    FIGURES["uploads"]["accepted"] += 1


@pytest.mark.parametrize("endpoint", [e for e, spec in UPLOADS.items() if spec.pdf])
def test_a_plain_pdf_is_kept_under_a_random_name(world, endpoint):
    spec = UPLOADS[endpoint]
    response = _send(world, spec, pdf_file("my licence.pdf"))
    assert response.status_code == 201, response.content[:300]
    assert RANDOM_NAME.match(os.path.basename(spec.stored(world, response).name))


def test_user_files_are_served_as_attachments_with_nosniff(world):
    spec = UPLOADS["stream-cover"]
    assert _send(world, spec, image_file("cover.jpg")).status_code == 200
    stored = spec.stored(world, None)
    response = client_for(None).get(f"/media/{stored.name}")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Type"] == "image/jpeg"


def test_private_files_are_never_served_from_media(world):
    credential = world.credential_pending
    assert credential.file.name.startswith("private/")
    response = client_for(None).get(f"/media/{credential.file.name}")
    assert response.status_code == 404


def test_the_credential_download_is_an_attachment_with_nosniff(world):
    credential = world.credential_pending
    response = client_for(world.a.merchant_user).get(
        f"/api/merchants/{world.a.shop.pk}/credentials/{credential.pk}/file/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="credential-{credential.pk}.pdf"'


@pytest.mark.parametrize("media_url, allowed, debug, serve, warns", [
    ("media/", ["cunbo.example.cn"], False, False, True),
    ("/media/", ["cunbo.example.cn"], False, False, True),
    ("https://cunbo.example.cn/media/", ["cunbo.example.cn"], False, False, True),
    ("https://media.cunbo.example.cn/", [".cunbo.example.cn"], False, False, True),
    ("https://files.cunbo-cdn.example.net/", ["cunbo.example.cn"], False, True, True),
    ("https://files.cunbo-cdn.example.net/", ["cunbo.example.cn"], False, False, False),
    ("media/", ["localhost"], True, True, False),
])
def test_production_media_must_be_on_another_origin(settings, media_url, allowed, debug, serve, warns):
    from core.checks import media_on_another_origin

    settings.MEDIA_URL, settings.ALLOWED_HOSTS, settings.DEBUG, settings.SERVE_MEDIA = media_url, allowed, debug, serve
    found = [w.id for w in media_on_another_origin(None)]
    assert found == (["core.W002"] if warns else [])
