"""Who may publish, and what a publish starts: stream-key auth, one live publisher per
stream, one HLS muxer per session, the stream's state around it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.db.models import Max

from media_analyzer.metrics import INGEST_BYTES
from streaming.ingest.hls import HlsMuxer, hls_command
from streaming.ingest.playlists import SEGMENT_NAME, playlist_name
from streaming.ingest.registry import playlist_sync
from streaming.ingest.rtmp import PublishSink, Refusal
from streaming.models import Stream
from streaming.selectors import publish_revocations, stream_by_key
from streaming.services import stream_go_live, stream_go_offline

logger = logging.getLogger(__name__)
APP = "live"
# How often live publishers are checked against their stream, so a rotated key or a disabled
# ingest cuts a publisher off within this (plus the HLS muxer's close), in any process.
REVOCATION_CHECK_S = 0.5


@dataclass(frozen=True)
class LiveSession:
    stream_id: UUID
    key_digest: str  # the key the publish was authorised with
    peer: str
    sink: HlsMuxer


class IngestSessions:
    def __init__(self, hls_root: Path, media_root: Path, segment_seconds: float) -> None:
        self.hls_root, self.media_root, self.segment_seconds = hls_root, media_root, segment_seconds
        self.live: dict[UUID, LiveSession] = {}

    async def authorize(self, app: str, key: str, peer: str) -> PublishSink | Refusal:
        if app != APP:
            logger.warning("rtmp %s refused: unknown application %r", peer, app)
            return Refusal("NetStream.Publish.BadName", f"unknown application; publish to /{APP}")
        stream = await sync_to_async(stream_by_key)(key)
        if stream is None:
            logger.warning("rtmp %s refused: unknown, revoked or disabled stream key", peer)
            return Refusal("NetStream.Publish.BadName", "invalid stream key")
        if not await sync_to_async(stream_go_live)(stream=stream):
            logger.warning("rtmp %s refused: stream %s already has a publisher", peer, stream.id)
            return Refusal("NetStream.Publish.BadName", "stream is already live")
        directory = self.hls_root / str(stream.id)
        directory.mkdir(parents=True, exist_ok=True)
        start_seq = await sync_to_async(_next_seq)(stream, directory)
        playlist = directory / playlist_name(start_seq)
        muxer = HlsMuxer(
            hls_command(directory, playlist.name, start_seq, self.segment_seconds),
            on_closed=lambda: self._ended(stream, playlist, muxer),
            received=INGEST_BYTES.labels(str(stream.id)),
        )
        try:
            await muxer.start()
        except OSError as exc:
            await sync_to_async(stream_go_offline)(stream=stream)
            logger.error("stream %s: cannot start the HLS muxer: %s", stream.id, exc)
            return Refusal("NetStream.Publish.Failed", "server cannot record this stream")
        self.live[stream.id] = LiveSession(stream.id, stream.key_digest, peer, muxer)
        logger.info("rtmp %s publishing stream %s from segment %d", peer, stream.id, start_seq)
        return muxer

    async def end_revoked_loop(self, end_publish: Callable[[HlsMuxer], bool]) -> None:
        """Polls, because the rotation or the disabling may happen in another process (the web
        process, when the ingest runs as `manage.py ingest`)."""
        while True:
            try:
                await self.end_revoked(end_publish)
            except Exception:  # a dead check would let a leaked key stream on: log, try again
                logger.exception("checking live publishers for revoked keys failed")
            await asyncio.sleep(REVOCATION_CHECK_S)

    async def end_revoked(self, end_publish: Callable[[HlsMuxer], bool]) -> int:
        """Ends each live publish whose stream was deleted, disabled or given a new key;
        returns how many. Ending it closes the muxer, which takes the stream offline."""
        sessions = list(self.live.values())
        if not sessions:
            return 0
        authorised = {session.stream_id: session.key_digest for session in sessions}
        reasons = await sync_to_async(_revocations, thread_sensitive=False)(authorised)
        ended = 0
        for session in sessions:
            reason = reasons.get(session.stream_id)
            # Still the same session (it may have ended, and another begun, during the query);
            # dropped here, so the next pass does not end, and log, it again while it closes.
            if reason and self.live.get(session.stream_id) is session:
                del self.live[session.stream_id]
                logger.warning("rtmp %s on stream %s cut off: %s", session.peer, session.stream_id, reason)
                ended += end_publish(session.sink)
        return ended

    async def _ended(self, stream: Stream, playlist: Path, muxer: HlsMuxer) -> None:
        if (session := self.live.get(stream.id)) is not None and session.sink is muxer:
            del self.live[stream.id]
        # The muxer has exited: the playlist is final, with its last segment and ENDLIST.
        await sync_to_async(playlist_sync)(playlist, self.media_root)
        await sync_to_async(stream_go_offline)(stream=stream)
        logger.info("stream %s offline", stream.id)


def _revocations(authorised: dict) -> dict:
    close_old_connections()  # a connection the database dropped (restart, outage) is opened afresh
    try:
        return publish_revocations(authorised)
    finally:
        close_old_connections()


def _next_seq(stream: Stream, directory: Path) -> int:
    """A republish continues the numbering, so earlier segments are kept, never overwritten."""
    on_disk = [int(m.group(1)) for p in directory.glob("seg_*.ts") if (m := SEGMENT_NAME.match(p.name))]
    registered = stream.segments.aggregate(top=Max("seq"))["top"]
    return max([*on_disk, registered if registered is not None else -1, -1]) + 1
