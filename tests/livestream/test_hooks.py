"""The media server's hooks (nginx-rtmp on_publish / on_publish_done form posts)."""

from urllib.parse import urlencode

import pytest

from livestream.models import Stream, StreamEvent
from merchants.models import Merchant

from .conftest import HOOK_SECRET

pytestmark = pytest.mark.django_db

PUBLISH = "/api/streams/hooks/publish/"
UNPUBLISH = "/api/streams/hooks/unpublish/"


def hook(client, url, key, *, secret=HOOK_SECRET, call=None, app="live", addr="203.0.113.9", **extra):
    form = {"call": call or ("publish" if url == PUBLISH else "publish_done"), "name": key, "app": app,
            "addr": addr, "type": "live", "tcurl": "rtmp://127.0.0.1/live", **extra}
    query = f"?secret={secret}" if secret is not None else ""
    return client.post(url + query, urlencode(form), content_type="application/x-www-form-urlencoded",
                       REMOTE_ADDR="127.0.0.1")  # as nginx-rtmp posts it


def state(stream):
    stream = Stream.objects.get(pk=stream.pk)
    return stream.status, stream.ingest_active


def test_a_valid_key_goes_live_and_renames_the_push_to_the_playback_id(api_client, hook_secret, scheduled_stream):
    response = hook(api_client, PUBLISH, scheduled_stream.stream_key)
    assert response.status_code == 302
    assert response["Location"] == scheduled_stream.playback_id
    assert scheduled_stream.stream_key not in response["Location"]
    assert state(scheduled_stream) == ("live", True)
    stream = Stream.objects.get(pk=scheduled_stream.pk)
    assert stream.started_at and stream.ingest_addr == "203.0.113.9"
    assert StreamEvent.objects.filter(stream=stream, to_status="live", reason="publish").exists()

    assert hook(api_client, UNPUBLISH, scheduled_stream.stream_key).status_code == 204
    assert state(scheduled_stream) == ("ended", False)


@pytest.mark.parametrize("secret", [None, "", "wrong", HOOK_SECRET + "x", HOOK_SECRET.upper()])
def test_a_missing_or_wrong_secret_is_403_and_changes_nothing(api_client, hook_secret, scheduled_stream, secret):
    for url in (PUBLISH, UNPUBLISH):
        response = hook(api_client, url, scheduled_stream.stream_key, secret=secret)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "publish_refused"
    assert state(scheduled_stream) == ("scheduled", False)


def test_no_configured_secret_refuses_everything(api_client, settings, scheduled_stream):
    settings.MEDIA_HOOK_SECRET = ""
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key, secret="").status_code == 403
    assert state(scheduled_stream) == ("scheduled", False)


def test_unknown_keys_other_apps_and_wrong_calls_are_refused(api_client, hook_secret, scheduled_stream):
    assert hook(api_client, PUBLISH, "not-a-key").status_code == 403
    assert hook(api_client, PUBLISH, "").status_code == 403
    assert hook(api_client, PUBLISH, scheduled_stream.playback_id).status_code == 403
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key, app="other").status_code == 403
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key, call="play").status_code == 403
    assert state(scheduled_stream) == ("scheduled", False)


def test_a_key_already_being_pushed_ended_or_cancelled_is_refused(api_client, hook_secret, scheduled_stream,
                                                                   shop):
    from tests.factories import StreamFactory

    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 302
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 403  # a second encoder
    assert state(scheduled_stream) == ("live", True)
    hook(api_client, UNPUBLISH, scheduled_stream.stream_key)
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 403  # ended
    cancelled = StreamFactory(merchant=shop, status="cancelled")
    assert hook(api_client, PUBLISH, cancelled.stream_key).status_code == 403
    assert state(scheduled_stream) == ("ended", False)


def test_a_stream_started_by_hand_accepts_its_encoder(api_client, client_for, owner, hook_secret,
                                                      scheduled_stream):
    client_for(owner).post(f"/api/streams/{scheduled_stream.pk}/start/")
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 302
    assert state(scheduled_stream) == ("live", True)
    assert StreamEvent.objects.filter(stream=scheduled_stream, to_status="live").count() == 1


def test_a_suspended_shop_cannot_go_live_from_the_encoder(api_client, hook_secret, scheduled_stream, shop):
    Merchant.objects.filter(pk=shop.pk).update(status=Merchant.Status.SUSPENDED)
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 403
    assert state(scheduled_stream) == ("scheduled", False)


def test_the_source_address_allow_list(api_client, hook_secret, settings, scheduled_stream):
    settings.MEDIA_HOOK_ALLOWED_ADDRS = ["10.0.0.0/8"]
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 403  # from 127.0.0.1
    settings.MEDIA_HOOK_ALLOWED_ADDRS = ["10.0.0.0/8", "127.0.0.1"]
    assert hook(api_client, PUBLISH, scheduled_stream.stream_key).status_code == 302


def test_unpublish_of_an_unknown_or_idle_key_changes_nothing(api_client, hook_secret, scheduled_stream,
                                                             client_for, owner):
    assert hook(api_client, UNPUBLISH, "nope").status_code == 204
    client_for(owner).post(f"/api/streams/{scheduled_stream.pk}/start/")
    assert hook(api_client, UNPUBLISH, scheduled_stream.stream_key).status_code == 204  # no encoder: stays live
    assert state(scheduled_stream) == ("live", False)


def test_a_rotated_key_no_longer_publishes(api_client, client_for, owner, hook_secret, scheduled_stream):
    old = scheduled_stream.stream_key
    client_for(owner).post(f"/api/streams/{scheduled_stream.pk}/rotate-key/")
    assert hook(api_client, PUBLISH, old).status_code == 403
    new = Stream.objects.get(pk=scheduled_stream.pk).stream_key
    assert hook(api_client, PUBLISH, new).status_code == 302
    # Not while an encoder pushes with it: its unpublish would no longer match.
    assert client_for(owner).post(f"/api/streams/{scheduled_stream.pk}/rotate-key/").status_code == 409


def test_hooks_are_in_the_schema(api_client):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", stdout=out)
    schema = out.getvalue()
    assert "/api/streams/hooks/publish/" in schema and "/api/streams/{stream_id}/offers/" in schema
