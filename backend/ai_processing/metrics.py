"""The database-backed gauges of /api/metrics, read at scrape time: segments by state and
queue depth. They read the apps' tables and the project package imports no app, so they live
here; AiProcessingConfig.ready() imports this module, which adds them to media_analyzer.metrics."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from ai_processing.selectors import queue_depths
from media_analyzer.metrics import REGISTRY
from streaming.models import MediaSegment


class DatabaseCollector:
    """Segments by state and queue depth, from the database at scrape time."""

    def describe(self):
        return []  # no database access at registration

    def collect(self):
        segments = GaugeMetricFamily("media_analyzer_segments", "Segments by state.", labels=["state"])
        for row in MediaSegment.objects.values("state").annotate(count=Count("id")):
            segments.add_metric([row["state"]], row["count"])
        yield segments
        queues = GaugeMetricFamily("media_analyzer_queue_depth", "Segments waiting or in analysis.", labels=["queue"])
        for queue, depth in queue_depths().items():
            queues.add_metric([queue], depth)
        yield queues


REGISTRY.register(DatabaseCollector())  # once: a module runs once per process
