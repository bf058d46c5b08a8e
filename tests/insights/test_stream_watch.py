"""A signed-in viewer's join and watch time are noted by the live room, off its fan-out."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from insights.models import InteractionEvent
from livestream.models import Stream
from tests import factories
from tests.livestream.conftest import drain as drain_frames
from tests.livestream.conftest import join, token_for

from .conftest import drain

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


async def test_joins_and_watch_time_of_signed_in_viewers_only():
    stream = await db(factories.StreamFactory)(status=Stream.Status.LIVE, started_at=timezone.now())
    viewer = await db(factories.ConsumerFactory)()
    fan = await join(stream.pk, token=token_for(viewer))
    anonymous = await join(stream.pk)
    await drain_frames(fan)
    await fan.disconnect()
    await anonymous.disconnect()
    assert await db(drain)() == 2
    rows = await db(lambda: sorted(InteractionEvent.objects.values_list("kind", "user_id", "stream_id",
                                                                         "merchant_id")))()
    assert rows == [("stream_join", viewer.pk, stream.pk, stream.merchant_id),
                    ("watch", viewer.pk, stream.pk, stream.merchant_id)]
