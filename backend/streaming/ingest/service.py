"""The ingest as one unit: RTMP server, HLS muxers and the segment watcher, started and
stopped together, in the web process (embedded) or in `manage.py ingest` (services)."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from ai_processing.stats import stats_loop
from streaming.ingest.registry import PlaylistWatcher
from streaming.ingest.rtmp import RtmpLimits, RtmpServer
from streaming.ingest.sessions import IngestSessions
from streaming.services import segment_files_expire, streams_reset_live

logger = logging.getLogger(__name__)


class Ingest:
    def __init__(self, limits: RtmpLimits = RtmpLimits()) -> None:
        ingest = settings.INGEST
        self.host, self.port = ingest["RTMP_HOST"], ingest["RTMP_PORT"]
        sessions = IngestSessions(ingest["HLS_ROOT"], settings.MEDIA_ROOT, ingest["SEGMENT_SECONDS"])
        self.rtmp = RtmpServer(sessions.authorize, limits)
        self.watcher = PlaylistWatcher(ingest["HLS_ROOT"], settings.MEDIA_ROOT, ingest["RETENTION_HOURS"])

    async def start(self) -> int:
        """Returns the RTMP port (useful when RTMP_PORT=0)."""
        reset = await sync_to_async(streams_reset_live)()
        if reset:
            logger.warning("%d streams were left live by an earlier run; now offline", reset)
        await sync_to_async(self.watcher.start)()
        self.port = await self.rtmp.start(self.host, self.port)
        self.stats = asyncio.create_task(stats_loop())
        self.retention = asyncio.create_task(self._expire_segments_hourly())
        logger.info("RTMP ingest on rtmp://%s:%d/live", self.host, self.port)
        return self.port

    async def _expire_segments_hourly(self) -> None:
        hours = settings.INGEST["RETENTION_HOURS"]
        while True:
            try:
                expired = await sync_to_async(segment_files_expire, thread_sensitive=False)(older_than_hours=hours)
                if expired:
                    logger.info("deleted the media of %d segments older than %s h", expired, hours)
            except Exception:  # retention must never take the ingest down
                logger.exception("segment retention failed")
            await asyncio.sleep(3600)

    async def stop(self) -> None:
        self.stats.cancel()
        self.retention.cancel()
        await self.rtmp.stop()  # closes every publisher's muxer, which finalises its playlist
        await sync_to_async(self.watcher.stop)()
