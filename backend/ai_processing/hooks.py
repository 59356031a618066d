"""What ai_processing hands to the apps that build on it (media_analyzer.hooks): they
subscribe in their AppConfig.ready(), so ai_processing never imports them."""

from __future__ import annotations

from dataclasses import dataclass

from media_analyzer.hooks import Hook
from streaming.models import MediaSegment


@dataclass(frozen=True)
class ResultsStored:
    segment: MediaSegment  # its stream already loaded
    interval_s: float  # seconds between the sampled frames whose results were stored
    thumbnails: dict[int, bytes]  # JPEG evidence of each brand's first sighting, by brand id


# Emitted by the pipeline once a segment's results are stored (and again after its logo
# recheck). Subscribed by exposure (appearances, alerts, live totals). Derived data: the
# pipeline logs a subscriber's exception and the segment's results stand.
results_stored: Hook[ResultsStored] = Hook("results stored")
