"""Prometheus metrics. Counters and histograms are updated where the work happens; the
database-backed gauges (segments by state, queue depth) are read at scrape time, by the
collector ai_processing registers here (ai_processing.metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

STAGE_SECONDS = Histogram(
    "media_analyzer_stage_seconds",
    "Seconds per segment spent in each pipeline stage.",
    ["stage"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)
FRAMES_ANALYSED = Counter("media_analyzer_frames_analysed", "Frames analysed.", registry=REGISTRY)
FRAMES_DRAWN = Counter(
    "media_analyzer_frames_drawn",
    "Analysed frames viewers' players drew, on the frame they were computed from or late.",
    ["on"],
    registry=REGISTRY,
)
WEBSOCKET_CLIENTS = Gauge("media_analyzer_websocket_clients", "Open stream sockets.", registry=REGISTRY)
INGEST_BYTES = Counter(
    "media_analyzer_ingest_bytes", "Media bytes received from publishers.", ["stream"], registry=REGISTRY
)


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)
