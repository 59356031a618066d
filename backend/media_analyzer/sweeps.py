"""The loop every sweep runs in, beside the ingest (streaming.hooks.ingest_loops)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)


async def sweep_forever(sweep_once: Callable[[], int], what: str) -> None:
    """Runs `sweep_once` (blocking: it queries) in a worker thread every SEGMENT_SWEEP_INTERVAL_S,
    logging how many `what` it dispatched again. An outage fails one pass; the next tries again."""
    while True:
        try:
            swept = await sync_to_async(sweep_once, thread_sensitive=False)()
            if swept:
                logger.info("dispatched %d %s again", swept, what)
        except Exception:
            logger.exception("the sweep of %s failed", what)
        await asyncio.sleep(settings.CONFIG.segment_sweep_interval_s)
