"""Go-live alerts: every follower told once, in batches, through the same outbox."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from livestream.models import Stream
from merchants.models import Follow
from notifications import tasks
from notifications.models import Delivery, FanOut, Notification
from notifications.services import broadcast_batch
from notifications.services.fanout import fanouts_resume
from tests.factories import ConsumerFactory, StreamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_stream_with_followers():
    stream = StreamFactory(status=Stream.Status.LIVE, title="采茶直播")
    followers = ConsumerFactory.create_batch(25)
    Follow.objects.bulk_create([Follow(user=u, merchant=stream.merchant) for u in followers])
    return stream, followers


def test_followers_are_told_in_batches_each_once(live_stream_with_followers, monkeypatch):
    stream, followers = live_stream_with_followers
    monkeypatch.setattr(tasks.fanout, "BATCH_SIZE", 10)
    queued = []
    monkeypatch.setattr(tasks.broadcast, "delay", lambda *args: queued.append(args))

    tasks.broadcast("stream.live", str(stream.pk))  # what going live queues
    assert Notification.objects.filter(kind="stream.live").count() == 10
    cursor = queued[-1][2]
    tasks.broadcast("stream.live", str(stream.pk), cursor)
    tasks.broadcast("stream.live", str(stream.pk), queued[-1][2])
    assert Notification.objects.filter(kind="stream.live").count() == 25
    assert len(queued) == 2  # the third batch was short: finished

    notice = Notification.objects.filter(kind="stream.live").first()
    assert notice.params == {"stream": stream.pk, "shop": stream.merchant.shop_name, "title": "采茶直播"}
    assert set(Delivery.objects.values_list("channel", flat=True)) == {"push"}  # no SMS storm
    fanout = FanOut.objects.get(kind="stream.live", key=str(stream.pk))
    assert fanout.finished_at and fanout.notified == 25

    # A retried or repeated task changes nothing.
    tasks.broadcast("stream.live", str(stream.pk))
    tasks.broadcast("stream.live", str(stream.pk), cursor)
    assert Notification.objects.filter(kind="stream.live").count() == 25
    assert set(Notification.objects.values_list("user_id", flat=True)) == {u.pk for u in followers}


def test_an_ended_stream_stops_the_broadcast(live_stream_with_followers):
    stream, _followers = live_stream_with_followers
    assert broadcast_batch(kind="stream.live", key=str(stream.pk), after=0, limit=10) is not None
    Stream.objects.filter(pk=stream.pk).update(status=Stream.Status.ENDED)
    cursor = FanOut.objects.get().cursor
    assert broadcast_batch(kind="stream.live", key=str(stream.pk), after=cursor, limit=10) is None
    assert Notification.objects.count() == 10 and FanOut.objects.get().finished_at


def test_a_broken_chain_is_resumed_by_the_sweep(live_stream_with_followers, monkeypatch):
    stream, _followers = live_stream_with_followers
    queued = []
    monkeypatch.setattr(tasks.broadcast, "delay", lambda *args: queued.append(args))
    cursor = broadcast_batch(kind="stream.live", key=str(stream.pk), after=0, limit=10)
    # ... and the worker died before queueing the next batch.
    assert fanouts_resume() == 0  # not stalled yet
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert fanouts_resume() == 1
        assert fanouts_resume() == 0  # one resume per stall period
    assert queued == [("stream.live", str(stream.pk), cursor)]
