"""Courier accounts were stored as full operators (role ``operator`` with a courier profile), so a
courier could vet shops and resolve disputes. Every user with a courier profile takes the
``courier`` role: scan and carry only (docs/security.md, "Hostile input, round two")."""

from django.db import migrations


def couriers_to_their_role(apps, schema_editor):
    Courier = apps.get_model("logistics", "Courier")
    User = apps.get_model("accounts", "User")
    User.objects.filter(pk__in=Courier.objects.values("user_id"), role="operator").update(role="courier")


def couriers_back_to_operators(apps, schema_editor):
    Courier = apps.get_model("logistics", "Courier")
    User = apps.get_model("accounts", "User")
    User.objects.filter(pk__in=Courier.objects.values("user_id"), role="courier").update(role="operator")


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0002_shipments_dispatches"),
        ("accounts", "0002_courier_role_token_version"),
    ]

    operations = [migrations.RunPython(couriers_to_their_role, couriers_back_to_operators)]
