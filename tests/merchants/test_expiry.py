"""The daily credential run, with a moved clock: reminders, expiry, and what it does to listed products."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from catalog.models import Product, ProductEvent
from merchants.models import Credential
from merchants.services import credentials_expire_due
from merchants.tasks import credentials_daily
from notifications.models import Notification
from tests.factories import CategoryFactory, ProductFactory

from .factories import CredentialFactory

pytestmark = pytest.mark.django_db


def at(day: datetime.date, hour=2):
    """Travel to ``hour`` o'clock (Asia/Shanghai) on ``day``, as the beat schedule would run."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def setup(shop):
    expiry = timezone.localdate() + datetime.timedelta(days=40)
    organic = CredentialFactory(merchant=shop, kind="organic_cert", expires_at=expiry)
    CredentialFactory(merchant=shop, kind="green_food_cert", expires_at=expiry + datetime.timedelta(days=400))
    licence = CredentialFactory(merchant=shop, kind="food_license", number="JY13707830012345", expires_at=expiry)
    processed = CategoryFactory(name="加工食品", slug="processed")
    pickles = CategoryFactory(name="酱菜", slug="pickles", parent=processed)
    products = {
        "both": ProductFactory(merchant=shop, claims=["organic", "green_food"]),
        "organic": ProductFactory(merchant=shop, claims=["organic"]),
        "pending": ProductFactory(merchant=shop, claims=["organic"], status="pending_review"),
        "pickles": ProductFactory(merchant=shop, category=pickles, claims=[]),
        "other_shop": ProductFactory(claims=["organic"]),
    }
    return expiry, organic, licence, products


def reminders(user, days):
    return Notification.objects.filter(user=user, kind="credential.expiring", params__days=days)


def test_reminders_30_and_7_days_before_each_exactly_once(setup, shop):
    expiry, organic, licence, _products = setup
    with at(expiry - datetime.timedelta(days=31)):
        credentials_daily()
    assert not Notification.objects.filter(kind="credential.expiring").exists()
    with at(expiry - datetime.timedelta(days=30)):
        credentials_daily()
        credentials_daily()  # a retry or a second beat tick sends nothing more
    assert reminders(shop.user, 30).count() == 2  # organic_cert and food_license
    with at(expiry - datetime.timedelta(days=20)):
        credentials_daily()
    assert Notification.objects.filter(kind="credential.expiring").count() == 2
    with at(expiry - datetime.timedelta(days=7)):
        credentials_daily()
        credentials_daily()
    assert reminders(shop.user, 7).count() == 2
    note = reminders(shop.user, 7).first()
    assert note.params["date"] == expiry.isoformat() and "7" in note.title
    with at(expiry):
        credentials_daily()
    assert Notification.objects.filter(kind="credential.expiring").count() == 4
    organic.refresh_from_db()
    assert organic.status == "approved"  # valid through its expiry day


def test_a_late_upload_gets_only_the_7_day_reminder(shop):
    CredentialFactory(merchant=shop, kind="organic_cert", expires_at=timezone.localdate() + datetime.timedelta(days=5))
    credentials_daily()
    credentials_daily()
    assert list(Notification.objects.filter(kind="credential.expiring").values_list("params__days", flat=True)) == [5]


def test_expiry_withdraws_claims_and_delists_processed_food(setup, shop, api_client):
    expiry, organic, licence, products = setup
    with at(expiry + datetime.timedelta(days=1)):
        assert credentials_daily() == {"expired": 2, "reminded": 0}
        again = credentials_daily()
    assert again == {"expired": 0, "reminded": 0}  # idempotent

    organic.refresh_from_db()
    licence.refresh_from_db()
    assert organic.status == licence.status == "expired"
    state = {name: Product.objects.get(pk=p.pk) for name, p in products.items()}
    assert state["both"].claims == ["green_food"] and state["both"].status == "listed"
    assert state["organic"].claims == [] and state["organic"].status == "listed"
    assert state["pending"].claims == ["organic"] and state["pending"].status == "pending_review"
    assert state["pickles"].status == "delisted"  # no food licence: processed food may not be sold
    assert state["other_shop"].claims == ["organic"]  # another shop's certificate is its own
    withdrawn = ProductEvent.objects.get(product=products["both"])
    assert withdrawn.from_status == withdrawn.to_status == "listed" and "organic" in withdrawn.reason
    assert ProductEvent.objects.get(product=products["pickles"]).to_status == "delisted"

    expired = Notification.objects.filter(user=shop.user, kind="credential.expired")
    assert expired.count() == 2
    assert {n.params["products"] for n in expired} == {2, 1}

    # What buyers see.
    listed = api_client.get("/api/products/?claim=organic").json()["results"]
    assert [p["id"] for p in listed] == [products["other_shop"].pk]
    assert api_client.get(f"/api/products/{products['both'].pk}/").json()["claims"] == ["green_food"]
    assert api_client.get(f"/api/products/{products['pickles'].pk}/").status_code == 404


def test_a_renewed_credential_keeps_the_claims(setup, shop):
    expiry, organic, _licence, products = setup
    CredentialFactory(merchant=shop, kind="organic_cert", number="RENEWED-2027",
                      expires_at=expiry + datetime.timedelta(days=365))
    with at(expiry + datetime.timedelta(days=1)):
        credentials_daily()
    organic.refresh_from_db()
    assert organic.status == "expired"
    assert Product.objects.get(pk=products["organic"].pk).claims == ["organic"]
    assert Notification.objects.get(kind="credential.expired", params__credential=organic.pk).params["products"] == 0


def test_a_pending_credential_expires_without_withdrawing(shop):
    pending = CredentialFactory(merchant=shop, status="pending",
                                expires_at=timezone.localdate() - datetime.timedelta(days=1))
    product = ProductFactory(merchant=shop, claims=["organic"])
    credentials_daily()
    pending.refresh_from_db()
    assert pending.status == "expired"
    assert Product.objects.get(pk=product.pk).claims == ["organic"]


def test_revoking_withdraws_at_once(client_for, shop, operator):
    credential = CredentialFactory(merchant=shop, kind="geo_indication", expires_at=None)
    product = ProductFactory(merchant=shop, claims=["geo_indication", "organic"])
    response = client_for(operator).post(f"/api/merchants/{shop.pk}/credentials/{credential.pk}/review/",
                                         {"decision": "revoke", "reason": "授权已撤销"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert Product.objects.get(pk=product.pk).claims == ["organic"]
    assert Notification.objects.get(kind="credential.revoked").params["products"] == 1


def test_each_run_handles_a_bounded_batch(shop):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for n in range(5):
        CredentialFactory(merchant=shop, expires_at=yesterday, number=f"OLD-{n}")
    assert credentials_expire_due(limit=2) == 2
    assert credentials_expire_due(limit=2) == 2
    assert credentials_expire_due(limit=2) == 1
    assert credentials_expire_due(limit=2) == 0
    assert Credential.objects.filter(status="expired").count() == 5


def test_beat_schedule_runs_it_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["merchants-credentials-daily"]
    assert entry["task"] == credentials_daily.name
    assert entry["schedule"].hour == {1} and entry["schedule"].minute == {30}
