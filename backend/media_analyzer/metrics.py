"""Prometheus metrics. Counters and histograms are updated where the work happens; the
database-backed gauges (segments by state, queue depth) are read at scrape time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry()

STAGE_SECONDS = Histogram(
    "media_analyzer_stage_seconds", "Seconds per segment spent in each pipeline stage.", ["stage"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=REGISTRY,
)  # fmt: skip
FRAMES_ANALYSED = Counter("media_analyzer_frames_analysed", "Frames analysed.", registry=REGISTRY)
WEBSOCKET_CLIENTS = Gauge("media_analyzer_websocket_clients", "Open stream sockets.", registry=REGISTRY)
INGEST_BYTES = Counter(
    "media_analyzer_ingest_bytes", "Media bytes received from publishers.", ["stream"], registry=REGISTRY
)


class DatabaseCollector:
    """Segments by state and queue depth, from the database at scrape time."""

    def describe(self):
        return []  # no database access at registration

    def collect(self):
        from django.db.models import Count

        from ai_processing.selectors import queue_depths
        from streaming.models import MediaSegment

        segments = GaugeMetricFamily("media_analyzer_segments", "Segments by state.", labels=["state"])
        for row in MediaSegment.objects.values("state").annotate(count=Count("id")):
            segments.add_metric([row["state"]], row["count"])
        yield segments
        queues = GaugeMetricFamily("media_analyzer_queue_depth", "Segments waiting or in analysis.", labels=["queue"])
        for queue, depth in queue_depths().items():
            queues.add_metric([queue], depth)
        yield queues


REGISTRY.register(DatabaseCollector())


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)
