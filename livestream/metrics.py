"""This app's gauges at /metrics (core/metrics.py): viewers of each live stream, read when scraped."""

from core.metrics import register_gauge

from .models import Stream
from .realtime.presence import viewer_counts


def _viewers():
    live = list(Stream.objects.filter(status=Stream.Status.LIVE).values_list("pk", flat=True)[:1000])
    for stream_id, count in viewer_counts(live).items():
        yield {"stream": str(stream_id)}, float(count)


register_gauge("cunbo_live_viewers", "Sockets watching each live stream (at most 1,000 streams).", ["stream"], _viewers)
