"""Who may publish, and what a publish starts: stream-key auth, one live publisher per
stream, one HLS muxer per session, the stream's state around it."""

from __future__ import annotations

import logging
from pathlib import Path

from asgiref.sync import sync_to_async
from django.db.models import Max

from media_analyzer.metrics import INGEST_BYTES
from streaming.ingest.hls import HlsMuxer, hls_command
from streaming.ingest.playlists import SEGMENT_NAME, playlist_name
from streaming.ingest.registry import playlist_sync
from streaming.ingest.rtmp import PublishSink, Refusal
from streaming.models import Stream
from streaming.selectors import stream_by_key
from streaming.services import stream_go_live, stream_go_offline

logger = logging.getLogger(__name__)
APP = "live"


class IngestSessions:
    def __init__(self, hls_root: Path, media_root: Path, segment_seconds: float) -> None:
        self.hls_root, self.media_root, self.segment_seconds = hls_root, media_root, segment_seconds

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
            on_closed=lambda: self._ended(stream, playlist),
            received=INGEST_BYTES.labels(str(stream.id)),
        )
        try:
            await muxer.start()
        except OSError as exc:
            await sync_to_async(stream_go_offline)(stream=stream)
            logger.error("stream %s: cannot start the HLS muxer: %s", stream.id, exc)
            return Refusal("NetStream.Publish.Failed", "server cannot record this stream")
        logger.info("rtmp %s publishing stream %s from segment %d", peer, stream.id, start_seq)
        return muxer

    async def _ended(self, stream: Stream, playlist: Path) -> None:
        # The muxer has exited: the playlist is final, with its last segment and ENDLIST.
        await sync_to_async(playlist_sync)(playlist, self.media_root)
        await sync_to_async(stream_go_offline)(stream=stream)
        logger.info("stream %s offline", stream.id)


def _next_seq(stream: Stream, directory: Path) -> int:
    """A republish continues the numbering, so earlier segments are kept, never overwritten."""
    on_disk = [int(m.group(1)) for p in directory.glob("seg_*.ts") if (m := SEGMENT_NAME.match(p.name))]
    registered = stream.segments.aggregate(top=Max("seq"))["top"]
    return max([*on_disk, registered if registered is not None else -1, -1]) + 1
