"""The ingest as one unit: RTMP server, HLS muxers, the segment watcher and the loops beside
it (streaming.hooks.ingest_loops: pipeline stats, the sweep), started and stopped together, in
the web process (embedded) or in `manage.py ingest` (services)."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from streaming.hooks import ingest_loops
from streaming.ingest.registry import PlaylistWatcher
from streaming.ingest.rtmp import RtmpLimits, RtmpServer
from streaming.ingest.sessions import IngestSessions
from streaming.services import segment_files_expire, streams_reset_live

logger = logging.getLogger(__name__)
RESYNC_S = 15  # how often playlists whose sync failed are synced again
STOP_TIMEOUT_S = 30  # the longest a background loop's last query may take at stop


class Ingest:
    def __init__(self, limits: RtmpLimits = RtmpLimits()) -> None:
        config = settings.CONFIG
        self.host, self.port = config.rtmp_host, config.rtmp_port
        self.sessions = IngestSessions(config.hls_root, settings.MEDIA_ROOT, config.hls_segment_seconds)
        self.rtmp = RtmpServer(self.sessions.authorize, limits)
        self.watcher = PlaylistWatcher(config.hls_root, settings.MEDIA_ROOT, config.segment_retention_hours)

    async def start(self) -> int:
        """Returns the RTMP port (useful when RTMP_PORT=0)."""
        reset = await sync_to_async(streams_reset_live)()
        if reset:
            logger.warning("%d streams were left live by an earlier run; now offline", reset)
        await sync_to_async(self.watcher.start)()
        self.port = await self.rtmp.start(self.host, self.port)
        # Beside the ingest, one per deployment: what the apps that build on it run here
        # (ai_processing: pipeline stats, and the sweep that dispatches lost segments again).
        self.loops_beside = [asyncio.create_task(loop()) for loop in ingest_loops]
        self.retention = asyncio.create_task(self._expire_segments_hourly())
        self.resync = asyncio.create_task(self._retry_failed_playlists())
        # A rotated key or a disabled ingest ends a publish that is already live.
        self.revocation = asyncio.create_task(self.sessions.end_revoked_loop(self.rtmp.end_publish))
        logger.info("RTMP ingest on rtmp://%s:%d/live", self.host, self.port)
        return self.port

    async def _expire_segments_hourly(self) -> None:
        hours = settings.CONFIG.segment_retention_hours
        while True:
            try:
                expired = await sync_to_async(segment_files_expire, thread_sensitive=False)(older_than_hours=hours)
                if expired:
                    logger.info("deleted the media of %d segments older than %s h", expired, hours)
            except Exception:  # retention must never take the ingest down
                logger.exception("segment retention failed")
            await asyncio.sleep(3600)

    async def _retry_failed_playlists(self) -> None:
        """A sync that failed (the database out of reach at a restart's catch-up) is never
        repeated by an event when its muxer is gone: the failed ones are tried again."""
        while True:
            await asyncio.sleep(RESYNC_S)
            try:
                await sync_to_async(self.watcher.retry_failed, thread_sensitive=False)()
            except Exception:  # a resync must never take the ingest down
                logger.exception("playlist resync failed")

    async def stop(self) -> None:
        loops = [*self.loops_beside, self.retention, self.resync, self.revocation]
        for loop in loops:
            loop.cancel()
        # A cancelled loop ends only when the query its thread is running returns (asgiref
        # waits for it): awaited, so nothing of this ingest still writes once stop returns
        # (a test's database flush deadlocked with a sweep still under way).
        await asyncio.wait(loops, timeout=STOP_TIMEOUT_S)
        await self.rtmp.stop()  # closes every publisher's muxer, which finalises its playlist
        await sync_to_async(self.watcher.stop)()
