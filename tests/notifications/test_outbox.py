"""The outbox, driven in-process: claims, channels, preferences, recovery after a dead worker.

(The same code under a real Celery worker, killed with -9, is in test_worker.py.)
"""

import asyncio
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.events import presence_join, presence_leave, user_group
from notifications.models import Delivery, Notification, Preference
from notifications.services import notify, notify_many
from notifications.services.outbox import _claim, outbox_drain, outbox_reap, outbox_sweep, quiet_until
from notifications.sms import FileSmsSender, HttpSmsSender, SmsMessage
from tests.factories import ConsumerFactory

pytestmark = pytest.mark.django_db

PARAMS = {"order": 1, "shop": "合作社", "hub": "服务点"}


def queued_tasks() -> list[dict]:
    """The task messages waiting in the notifications queue on this test's Redis."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return [json.loads(raw)["headers"] for raw in client.lrange("notifications", 0, -1)]


def test_notify_writes_the_notification_and_its_outbox_rows_in_the_callers_transaction(
        consumer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notify(user=consumer, kind="shipment.picked_up", params=PARAMS)
                raise RuntimeError("the business write failed")
    assert callbacks == []  # a rollback wakes nobody
    assert not Notification.objects.exists() and not Delivery.objects.exists()
    assert queued_tasks() == []

    with django_capture_on_commit_callbacks(execute=True):
        notify(user=consumer, kind="shipment.picked_up", params=PARAMS)
    assert Delivery.objects.filter(state="pending").count() == 2
    assert len(queued_tasks()) == 2


def test_a_burst_of_commits_rings_the_doorbell_once_per_channel(db, django_capture_on_commit_callbacks):
    users = [ConsumerFactory() for _ in range(5)]
    for user in users:
        with django_capture_on_commit_callbacks(execute=True):  # five commits
            notify(user=user, kind="shipment.picked_up", params=PARAMS)
    tasks = queued_tasks()
    assert sorted(t["argsrepr"] for t in tasks) == ["('push',)", "('sms',)"]
    assert {t["task"] for t in tasks} == {"notifications.deliver_outbox"}
    # Once a drain has started (and cleared the bell) the next commit rings again.
    outbox_drain(channel="push")
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=users[0], kind="stream.live", params={"shop": "s", "title": "t"})
    assert sorted(t["argsrepr"] for t in queued_tasks()) == ["('push',)", "('push',)", "('sms',)"]


def test_push_reaches_the_users_group_once(consumer):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(consumer.pk), channel)
    presence_join(consumer.pk)
    notice = notify(user=consumer, kind="shipment.picked_up", params=PARAMS)
    assert outbox_drain(channel="push") == 1
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "notification.push"
    assert message["event"]["id"] == notice.pk and message["event"]["type"] == "notification"
    assert message["event"]["title"] == notice.title
    assert outbox_drain(channel="push") == 0  # nothing twice
    delivery = Delivery.objects.get(notification=notice, channel="push")
    assert delivery.state == "sent" and delivery.sent_at and delivery.attempts == 1


def test_no_push_for_someone_without_an_open_socket(consumer):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(consumer.pk), channel)  # a stale group member
    presence_join(consumer.pk)
    presence_join(consumer.pk)  # two sockets ...
    presence_leave(consumer.pk)
    presence_leave(consumer.pk)  # ... both closed
    notice = notify(user=consumer, kind="shipment.picked_up", params=PARAMS)
    assert outbox_drain(channel="push") == 0
    delivery = Delivery.objects.get(notification=notice, channel="push")
    assert (delivery.state, delivery.detail) == ("skipped", "not connected")
    assert async_to_sync(receive_or_none)(layer, channel) is None  # the layer was never asked


async def receive_or_none(layer, channel, timeout=0.5):
    try:
        return await asyncio.wait_for(layer.receive(channel), timeout)
    except asyncio.TimeoutError:
        return None


def test_sms_goes_out_once_in_the_readers_language(sms_spool, db):
    chinese = ConsumerFactory(language="zh-hans", phone="13800138000")
    notify(user=chinese, kind="shipment.delivered", params=PARAMS)
    assert outbox_drain(channel="sms") == 1
    assert outbox_drain(channel="sms") == 0
    (line,) = sms_spool()
    assert line["phone"] == "13800138000" and line["text"].startswith("包裹已签收")
    delivery = Delivery.objects.get(channel="sms")
    assert line["key"] == str(delivery.key) and delivery.state == "sent"


def test_sms_respects_opt_out_and_missing_phones(sms_spool, db):
    opted_out = ConsumerFactory()
    Preference.objects.create(user=opted_out, sms_enabled=False)
    no_phone = ConsumerFactory(phone="")
    for user in (opted_out, no_phone):
        notify(user=user, kind="shipment.delivered", params=PARAMS)
    assert outbox_drain(channel="sms") == 0
    assert sms_spool() == []
    assert dict(Delivery.objects.filter(channel="sms").values_list("notification__user_id", "detail")) == {
        opted_out.pk: "opted out", no_phone.pk: "no phone number"}
    assert set(Delivery.objects.filter(channel="sms").values_list("state", flat=True)) == {"skipped"}
    # In-app and push still happen.
    presence_join(opted_out.pk)
    presence_join(no_phone.pk)
    assert outbox_drain(channel="push") == 2


def test_quiet_hours_defer_sms_until_they_end(sms_spool, settings, db):
    settings.NOTIFICATIONS_DEFAULT_QUIET_HOURS = "22:00-08:00"
    night = ConsumerFactory()
    own_hours = ConsumerFactory()
    Preference.objects.create(user=own_hours, quiet_start=datetime.time(23, 30), quiet_end=datetime.time(6, 0))
    at_23 = timezone.make_aware(datetime.datetime(2026, 3, 2, 23, 0))  # Asia/Shanghai
    with time_machine.travel(at_23, tick=False):
        notify(user=night, kind="shipment.delivered", params=PARAMS)
        notify(user=own_hours, kind="shipment.delivered", params=PARAMS)
        assert outbox_drain(channel="sms") == 1  # own_hours' quiet starts at 23:30
    held = Delivery.objects.get(channel="sms", notification__user=night)
    assert held.state == "pending" and held.detail == "quiet hours" and held.attempts == 0
    assert timezone.localtime(held.not_before) == timezone.make_aware(datetime.datetime(2026, 3, 3, 8, 0))
    with time_machine.travel(at_23 + datetime.timedelta(hours=8, minutes=59), tick=False):
        assert outbox_drain(channel="sms") == 0
    with time_machine.travel(at_23 + datetime.timedelta(hours=9, minutes=1), tick=False):
        assert outbox_drain(channel="sms") == 1
    assert [line["phone"] for line in sms_spool()] == [own_hours.phone, night.phone]


@pytest.mark.parametrize(("now", "start", "end", "expected"), [
    ("23:00", "22:00", "08:00", "+1 08:00"),
    ("07:59", "22:00", "08:00", "08:00"),
    ("08:00", "22:00", "08:00", None),
    ("21:59", "22:00", "08:00", None),
    ("13:00", "12:00", "14:00", "14:00"),
    ("14:00", "12:00", "14:00", None),
])
def test_quiet_until(now, start, end, expected):
    day = datetime.date(2026, 3, 2)
    local = timezone.make_aware(datetime.datetime.combine(day, datetime.time.fromisoformat(now)))
    result = quiet_until(local, datetime.time.fromisoformat(start), datetime.time.fromisoformat(end))
    if expected is None:
        assert result is None
    else:
        plus = expected.startswith("+1 ")
        when = datetime.time.fromisoformat(expected.removeprefix("+1 "))
        assert result == timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=plus), when))


def test_a_worker_killed_mid_batch_is_settled_without_a_second_sms(sms_spool, settings, db):
    users = [ConsumerFactory() for _ in range(4)]
    for user in users:
        notify(user=user, kind="shipment.delivered", params=PARAMS)
    # A worker claims the batch, gets two messages out, then dies before recording anything.
    token, ids = _claim("sms", 10)
    assert len(ids) == 4
    rows = list(Delivery.objects.filter(pk__in=ids).order_by("pk").select_related("notification__user"))
    FileSmsSender(str(sms_spool.path)).send_batch(
        [SmsMessage(key=str(r.key), phone=r.notification.user.phone, text="…") for r in rows[:2]])
    assert outbox_drain(channel="sms") == 0  # still inside the lease: nobody touches them
    assert outbox_reap() == {"confirmed": 0, "resent": 0, "dropped": 0}

    with time_machine.travel(timezone.now() + settings.NOTIFICATIONS_CLAIM_LEASE + datetime.timedelta(seconds=1)):
        assert outbox_reap() == {"confirmed": 2, "resent": 2, "dropped": 0}
        assert outbox_drain(channel="sms") == 2
    keys = [line["key"] for line in sms_spool()]
    assert sorted(keys) == sorted(str(r.key) for r in rows) and len(keys) == 4  # each exactly once
    assert set(Delivery.objects.filter(channel="sms").values_list("state", flat=True)) == {"sent"}


def test_a_sender_that_cannot_look_up_drops_rather_than_duplicates(settings, db):
    settings.NOTIFICATIONS_SMS = {"BACKEND": "notifications.sms.ConsoleSmsSender", "OPTIONS": {}}
    notify(user=ConsumerFactory(), kind="shipment.delivered", params=PARAMS)
    _claim("sms", 10)
    later = timezone.now() + settings.NOTIFICATIONS_CLAIM_LEASE + datetime.timedelta(seconds=1)
    with time_machine.travel(later):
        assert outbox_reap() == {"confirmed": 0, "resent": 0, "dropped": 1}
    assert Delivery.objects.get(channel="sms").state == "failed"
    settings.NOTIFICATIONS_SMS_UNCERTAIN = "resend"
    notify(user=ConsumerFactory(), kind="shipment.delivered", params=PARAMS)
    _claim("sms", 10)
    with time_machine.travel(later + datetime.timedelta(minutes=5)):
        assert outbox_reap() == {"confirmed": 0, "resent": 1, "dropped": 0}


def test_stale_pushes_are_sent_again(db, settings):
    user = ConsumerFactory()
    presence_join(user.pk)
    notice = notify(user=user, kind="stream.live", params={"shop": "s", "title": "t"})
    _claim("push", 10)
    with time_machine.travel(timezone.now() + settings.NOTIFICATIONS_CLAIM_LEASE + datetime.timedelta(seconds=1)):
        assert outbox_reap()["resent"] == 1
        assert outbox_drain(channel="push") == 1
    assert Delivery.objects.get(notification=notice).state == "sent"


def test_failed_sends_back_off_and_give_up(db, settings):
    settings.NOTIFICATIONS_SMS = {"BACKEND": "notifications.sms.HttpSmsSender",
                                  "OPTIONS": {"url": "http://127.0.0.1:1", "timeout": 0.5}}
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    settings.NOTIFICATIONS_DEFAULT_QUIET_HOURS = ""
    notify(user=ConsumerFactory(), kind="shipment.delivered", params=PARAMS)
    assert outbox_drain(channel="sms") == 0
    row = Delivery.objects.get(channel="sms")
    assert row.state == "pending" and row.attempts == 1 and row.not_before > timezone.now()
    assert row.detail.startswith("gateway:")
    with time_machine.travel(row.not_before + datetime.timedelta(seconds=1)):
        assert outbox_drain(channel="sms") == 0
    row.refresh_from_db()
    assert row.state == "failed" and row.attempts == 2


def test_the_sweep_wakes_channels_with_due_rows(db):
    notify_many(users=[ConsumerFactory() for _ in range(3)], kind="stream.live", params={"shop": "s", "title": "t"})
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("notifications")
    report = outbox_sweep()
    assert report["woken"] == ["push"]
    assert [t["argsrepr"] for t in queued_tasks()] == ["('push',)"]


def test_notify_many_renders_once_per_language_and_dedupes(db):
    english, chinese = ConsumerFactory(language="en"), ConsumerFactory(language="zh-hans")
    written = notify_many(users=[english, chinese], kind="stream.live", params={"shop": "合作社", "title": "摘茶"},
                          dedupe_key="stream.live:1")
    assert {n.title for n in written} == {"合作社 is live now", "合作社 正在直播"}
    again = notify_many(users=[english, chinese, ConsumerFactory()], kind="stream.live",
                        params={"shop": "合作社", "title": "摘茶"}, dedupe_key="stream.live:1")
    assert len(again) == 1
    assert Delivery.objects.filter(channel="push").count() == 3 and not Delivery.objects.filter(channel="sms").exists()
    # notify() with the same key returns the first notification
    first = notify(user=english, kind="stream.live", params={}, dedupe_key="stream.live:1")
    assert first.pk in {n.pk for n in written}
    assert Notification.objects.count() == 3


class Gateway(BaseHTTPRequestHandler):
    accepted: set = set()
    calls: list = []

    def do_POST(self):  # noqa: N802 - http.server's API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.calls.append((self.path, self.headers.get("Authorization"), body))
        if self.path == "/send":
            results = []
            for message in body["messages"]:
                ok = not message["phone"].startswith("000")
                if ok:
                    Gateway.accepted.add(message["id"])
                results.append({"id": message["id"], "accepted": ok, "message_id": f"m-{message['id'][:6]}",
                                **({} if ok else {"error": "invalid number", "retryable": False})})
            answer = {"results": results}
        else:
            answer = {"accepted": [i for i in body["ids"] if i in Gateway.accepted]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.accepted, Gateway.calls = set(), []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_http_sender_speaks_to_a_real_gateway(gateway, settings, db):
    settings.NOTIFICATIONS_SMS = {"BACKEND": "notifications.sms.HttpSmsSender",
                                  "OPTIONS": {"url": gateway, "token": "s3cret"}}
    settings.NOTIFICATIONS_DEFAULT_QUIET_HOURS = ""
    good = ConsumerFactory(phone="13900000001")
    bad = ConsumerFactory(phone="00000000000")
    for user in (good, bad):
        notify(user=user, kind="shipment.delivered", params=PARAMS)
    assert outbox_drain(channel="sms") == 1
    sent = Delivery.objects.get(channel="sms", notification__user=good)
    rejected = Delivery.objects.get(channel="sms", notification__user=bad)
    assert sent.state == "sent" and sent.provider_id.startswith("m-")
    assert rejected.state == "failed" and rejected.detail == "invalid number"
    path, auth, body = Gateway.calls[0]
    assert path == "/send" and auth == "Bearer s3cret" and body["sign"] == "村播"
    assert HttpSmsSender(gateway).lookup([str(sent.key), "nope"]) == {str(sent.key)}


def test_settled_outbox_rows_are_purged_after_the_retention(db, settings):
    from notifications.services.outbox import deliveries_purge

    user = ConsumerFactory()
    presence_join(user.pk)
    old = notify(user=user, kind="stream.live", params={"shop": "s", "title": "t"})
    outbox_drain(channel="push")
    pending = notify(user=user, kind="stream.live", params={"shop": "s", "title": "t2"})
    Delivery.objects.update(created_at=timezone.now() - settings.NOTIFICATIONS_DELIVERY_RETENTION
                            - datetime.timedelta(minutes=1))
    assert deliveries_purge() == 1
    assert list(Delivery.objects.values_list("notification_id", flat=True)) == [pending.pk]  # never an unsent one
    assert Notification.objects.filter(pk=old.pk).exists()  # the in-app history stays
