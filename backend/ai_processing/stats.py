"""Publishes `pipeline.stats` for every live stream once a second. Runs beside the ingest
(one per deployment), so viewers get one copy whatever the number of web replicas."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async

from ai_processing.selectors import pipeline_stats, queue_depths
from media_analyzer.events import broadcast
from streaming.models import Stream

logger = logging.getLogger(__name__)
INTERVAL_S = 1.0


def stats_publish_once() -> int:
    depths = queue_depths()
    live = list(Stream.objects.filter(status=Stream.Status.LIVE))
    for stream in live:
        broadcast(stream.id, pipeline_stats(stream=stream, depths=depths))
    return len(live)


async def stats_loop() -> None:
    while True:
        try:
            await sync_to_async(stats_publish_once, thread_sensitive=False)()
        except Exception:  # a failing sink never stops the pipeline
            logger.exception("pipeline stats failed")
        await asyncio.sleep(INTERVAL_S)
