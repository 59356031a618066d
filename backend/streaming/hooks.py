"""What streaming hands to the apps that build on it (media_analyzer.hooks): they subscribe
in their AppConfig.ready(), so streaming never imports them."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from media_analyzer.hooks import Hook, Registry
from streaming.models import MediaSegment


@dataclass(frozen=True)
class SegmentRegistered:
    segment: MediaSegment  # committed, `pending`; its stream already loaded


# Emitted once per segment, on the commit of its row (segment_register). Subscribed by
# ai_processing (the dispatcher). A subscriber's exception is logged by the commit hook,
# never raised into the ingest: the row stays pending for the sweep.
segment_registered: Hook[SegmentRegistered] = Hook("segment registered")

# Loops that run beside the ingest, in its process, started and stopped with it (Ingest),
# before its own loops. Added by ai_processing: pipeline stats, then the sweep.
IngestLoop = Callable[[], Coroutine[Any, Any, None]]
ingest_loops: Registry[IngestLoop] = Registry("ingest loops")
