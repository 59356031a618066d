"""Uploaded videos (batch input): checked, remuxed to HLS segments, registered through the
same registry as live streams, then analysed in batch mode.

The file is probed with libav (PyAV, the library behind ffprobe) against a container and
codec allowlist before anything is kept; a rejected upload leaves nothing behind."""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import imageio_ffmpeg
from django.conf import settings
from django.db import transaction

from streaming.ingest.playlists import playlist_name
from streaming.ingest.registry import playlist_sync
from streaming.models import Stream
from streaming.services import stream_create, stream_update

logger = logging.getLogger(__name__)
ALLOWED_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "MKV"}
ALLOWED_VIDEO = {"h264"}  # browsers play it as is, so segments are remuxed, never re-encoded
ALLOWED_AUDIO = {"aac", "mp3"}
REMUX_TIMEOUT_S = 3600


class UploadRejected(ValueError):
    """The reason is shown to the user as is."""


@dataclass(frozen=True)
class Probe:
    container: str
    video: str
    audio: str | None
    duration_s: float


def upload_probe(path: Path) -> Probe:
    try:
        with av.open(str(path)) as container:
            if container.format.name not in ALLOWED_CONTAINERS:
                raise UploadRejected(f"container {container.format.name!r} not allowed: upload MP4, MOV or MKV")
            if not container.streams.video:
                raise UploadRejected("the file has no video stream")
            video = container.streams.video[0].codec_context.name
            audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
            duration = float(container.duration or 0) / av.time_base
    except av.FFmpegError as exc:
        raise UploadRejected(f"not a readable video file ({exc.strerror or type(exc).__name__})") from None
    if video not in ALLOWED_VIDEO:
        raise UploadRejected(f"video codec {video} not allowed: use H.264")
    if audio is not None and audio not in ALLOWED_AUDIO:
        raise UploadRejected(f"audio codec {audio} not allowed: use AAC or MP3")
    if duration <= 0:
        raise UploadRejected("the video has no duration")
    return Probe(container.format.name, video, audio, duration)


def upload_ingest(*, owner, name: str, path: Path) -> Stream:
    """Probes, creates a batch-mode stream, remuxes the file to its HLS segments and
    registers them (which dispatches their analysis). On any failure nothing is kept."""
    if path.stat().st_size > settings.MEDIA_ANALYZER["UPLOAD_MAX_BYTES"]:
        raise UploadRejected(f"larger than {settings.MEDIA_ANALYZER['UPLOAD_MAX_BYTES']} bytes")
    upload_probe(path)
    with transaction.atomic():
        stream, _ = stream_create(owner=owner, name=name, processing_mode=Stream.Mode.BATCH)
        stream = stream_update(stream=stream, ingest_enabled=False)  # nobody publishes to an upload
    directory = settings.INGEST["HLS_ROOT"] / str(stream.id)
    try:
        _remux(path, directory)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        stream.delete()
        stderr = getattr(exc, "stderr", "") or ""
        raise UploadRejected(f"the video could not be segmented: {stderr.strip()[-200:] or exc}") from None
    Stream.objects.filter(pk=stream.pk).update(status=Stream.Status.ENDED)
    playlist_sync(directory / playlist_name(0), settings.MEDIA_ROOT)
    stream.refresh_from_db()
    return stream


def _remux(path: Path, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
         "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-bsf:v", "h264_mp4toannexb",
         "-f", "hls", "-hls_time", str(settings.INGEST["SEGMENT_SECONDS"]), "-hls_list_size", "0",
         "-hls_playlist_type", "vod", "-hls_flags", "program_date_time+independent_segments",
         "-hls_segment_filename", str(directory / "seg_%06d.ts"), str(directory / playlist_name(0))],
        check=True, capture_output=True, text=True, timeout=REMUX_TIMEOUT_S,
    )  # fmt: skip
