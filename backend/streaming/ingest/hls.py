"""One ffmpeg per live stream: FLV on stdin, HLS out, remuxed without re-encoding."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import imageio_ffmpeg
from prometheus_client import Counter

from streaming.ingest.flv import HEADER, flv_tag

logger = logging.getLogger(__name__)
WRITE_TIMEOUT_S = 5.0
EXIT_TIMEOUT_S = 10.0


def hls_command(directory: Path, playlist: str, start_number: int, segment_seconds: float) -> list[str]:
    return [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostats",
        # The first segment lands ~2.3 s after publish instead of ~5.4 s with default probing.
        "-analyzeduration", "500000", "-f", "flv", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        "-f", "hls", "-hls_time", str(segment_seconds), "-hls_list_size", "0", "-hls_playlist_type", "event",
        "-hls_flags", "program_date_time+independent_segments+temp_file",
        "-start_number", str(start_number), "-hls_segment_filename", str(directory / "seg_%06d.ts"),
        str(directory / playlist),
    ]  # fmt: skip


class HlsMuxer:
    """A `PublishSink`: RTMP media in, HLS segments and a playlist out. Writes wait for
    ffmpeg (back-pressure to the publisher) but never longer than WRITE_TIMEOUT_S."""

    def __init__(self, command: list[str], on_closed: Callable[[], Awaitable[None]], received: Counter) -> None:
        self.command = command
        self.on_closed = on_closed
        self.received = received  # bytes from the publisher, for the ingest bitrate
        self.process: asyncio.subprocess.Process | None = None
        self._closed = False

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._stderr = asyncio.create_task(self._log_stderr())
        await self._write(HEADER)

    async def media(self, tag_type: int, timestamp_ms: int, payload: bytes) -> None:
        self.received.inc(len(payload))
        await self._write(flv_tag(tag_type, timestamp_ms, payload))

    async def _write(self, data: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None  # start() ran
        self.process.stdin.write(data)
        await asyncio.wait_for(self.process.stdin.drain(), WRITE_TIMEOUT_S)

    async def close(self) -> None:
        """Ends the input; ffmpeg closes the last segment and writes #EXT-X-ENDLIST."""
        if self._closed:
            return
        self._closed = True
        assert self.process is not None and self.process.stdin is not None  # start() ran
        try:
            self.process.stdin.close()
            await asyncio.wait_for(self.process.wait(), EXIT_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            logger.warning("hls muxer did not exit in %s s; killed", EXIT_TIMEOUT_S)
            self.process.kill()
            await self.process.wait()
        finally:
            await self._stderr
            await self.on_closed()

    async def _log_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None  # start() ran
        async for line in self.process.stderr:
            logger.warning("ffmpeg: %s", line.decode(errors="replace").rstrip())
