"""Credential numbers are sealed at rest: the database holds no number, the API and staff still see it."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import Client

from merchants.models import Credential

from .factories import id_card_number, pdf_file

pytestmark = pytest.mark.django_db


def _stored(credential_id: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, number_digest FROM merchants_credential WHERE id = %s", [credential_id])
        return cursor.fetchone()


def test_an_uploaded_number_is_stored_sealed_and_read_back_whole(client_for, shop):
    number = id_card_number(7)
    response = client_for(shop.user).post(f"/api/merchants/{shop.pk}/credentials/", {
        "kind": "id_card", "number": number, "file": pdf_file()}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == number  # the owner sees it whole
    stored, digest = _stored(response.json()["id"])
    assert number not in stored and number[-6:] not in stored and stored.startswith("gAAAAA")
    assert len(digest) == 64 and number not in digest
    assert Credential.objects.get(pk=response.json()["id"]).number == number
    # Sealing twice gives two different texts, so equal numbers cannot be spotted in a dump.
    again = client_for(shop.user).post(f"/api/merchants/{shop.pk}/credentials/", {
        "kind": "id_card", "number": number, "file": pdf_file()}, format="multipart").json()
    assert _stored(again["id"])[0] != stored and _stored(again["id"])[1] == digest


def test_a_sealed_field_refuses_queries_that_could_never_match(shop):
    with pytest.raises(FieldError):
        list(Credential.objects.filter(number="1234"))
    assert Credential.objects.filter(number__isnull=False).count() == 0


def test_staff_find_a_credential_by_its_whole_number_in_the_admin(admin_user, shop):
    number = id_card_number(8)
    credential = Credential.objects.create(merchant=shop, kind="id_card", number=number)
    Credential.objects.create(merchant=shop, kind="id_card", number=id_card_number(9))
    client = Client()
    client.force_login(admin_user)
    found = client.get("/admin/merchants/credential/", {"q": number.lower()})
    assert [c.pk for c in found.context["cl"].result_list] == [credential.pk]
    partial = client.get("/admin/merchants/credential/", {"q": number[:10]})
    assert list(partial.context["cl"].result_list) == []  # no partial matches on a sealed number


def test_a_new_key_opens_old_values_and_reseal_moves_them_to_it(settings, shop):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    number = id_card_number(10)
    credential = Credential.objects.create(merchant=shop, kind="id_card", number=number)
    sealed_with_old = _stored(credential.pk)[0]

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Credential.objects.get(pk=credential.pk).number == number  # old values still open
    call_command("reseal", stdout=open("/dev/null", "w"))
    assert _stored(credential.pk)[0] != sealed_with_old

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything was resealed
    assert Credential.objects.get(pk=credential.pk).number == number
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # a key that never sealed it
    with pytest.raises(InvalidToken):  # never a token passed off as the number
        Credential.objects.get(pk=credential.pk)


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_numbers_written_before_it():
    from django.db.migrations.executor import MigrationExecutor

    from tests.factories import MerchantFactory

    shop = MerchantFactory()
    number = id_card_number(11)
    executor = MigrationExecutor(connection)
    executor.migrate([("merchants", "0002_credential_credentialevent_and_more")])
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO merchants_credential (merchant_id, kind, number, issuer, file, "
                           "file_content_type, status, created_at, updated_at) VALUES "
                           "(%s, 'id_card', %s, '', '', '', 'approved', now(), now()) RETURNING id",
                           [shop.pk, number])
            credential_id = cursor.fetchone()[0]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    stored, digest = _stored(credential_id)
    assert number not in stored and stored.startswith("gAAAAA")
    assert Credential.objects.get(pk=credential_id).number == number
    assert Credential.objects.filter(number_digest=digest).count() == 1


def test_a_mistyped_key_stops_the_product_from_starting(settings):
    from django.core.checks import run_checks

    settings.FIELD_ENCRYPTION_KEYS = ["change-me-to-a-fernet-key"]
    assert [e.id for e in run_checks() if e.id.startswith("core.")] == ["core.E001"]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert [e.id for e in run_checks() if e.id.startswith("core.")] == []
