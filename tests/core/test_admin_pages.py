"""Every staff screen renders: each registered model's list, and the change page of one of its rows."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_every_admin_list_and_change_page_renders_on_demo_data(admin_user):
    call_command("seed_demo", verbosity=0)
    client = Client()
    client.force_login(admin_user)
    rendered = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        listing = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert listing.status_code == 200, opts.label
        obj = model_admin.get_queryset(listing.wsgi_request).first()
        if obj is not None:
            page = client.get(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/")
            assert page.status_code == 200, opts.label
            rendered += 1
    assert rendered >= 15  # the demo fills most tables; a screen that breaks on a real row is caught here
