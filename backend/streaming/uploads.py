"""Uploaded videos (batch input): checked, remuxed to HLS segments, registered through the
same registry as live streams, then analysed in batch mode.

The request stores the file and probes it with libav (PyAV, the library behind ffprobe)
against a container and codec allowlist; a rejected upload leaves nothing behind. An
accepted one becomes a `processing` stream at once, and the remux runs off the request
(embedded mode: an in-process pool; services mode: the Celery "batch" queue), reporting
its progress on the stream (`upload_progress`, pushed as `stream.state`). It ends `ended`
with its segments registered, or `failed` with a `status_reason`; the stored upload is
deleted either way. A remux that never ends (the process that ran it restarted, a worker
killed with its task lost) is found by the sweep (`uploads_sweep`, beside the ingest): a
`processing` stream with no progress for UPLOAD_STALL_S is queued again once while its upload
is there, and then ends `failed`, its upload deleted.

The upload is kept under MEDIA_ROOT/uploads/ until then: ffmpeg needs a local path, and
MEDIA_ROOT is the media volume that web, ingest and workers share whatever MEDIA_STORAGE
says (segments live there too, streaming.models). A deployment whose workers do not mount
that volume (MEDIA_STORAGE on GCS without a shared MEDIA_ROOT) cannot remux uploads in
services mode: the task fails them with "the stored upload is missing"."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import av
import imageio_ffmpeg
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from media_analyzer.events import broadcast_on_commit
from media_analyzer.pools import BackgroundPool
from streaming.ingest.playlists import playlist_name
from streaming.ingest.registry import playlist_sync
from streaming.messages import stream_state_message
from streaming.models import Stream
from streaming.services import stream_create, stream_update

logger = logging.getLogger(__name__)
ALLOWED_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "MKV"}
ALLOWED_VIDEO = {"h264"}  # browsers play it as is, so segments are remuxed, never re-encoded
ALLOWED_AUDIO = {"aac", "mp3"}
REMUX_TIMEOUT_S = 3600
UPLOADS_DIR = "uploads"  # under MEDIA_ROOT: stored uploads waiting for their remux
PROGRESS_INTERVAL_S = 1.0  # at most one progress write (and message) a second
SWEEP_BATCH = 100  # stalled uploads failed per sweep pass
INTERRUPTED = "the upload's processing was interrupted: upload it again"
MAX_REQUEUES = 1  # times the sweep queues a stalled remux again before it fails the upload
RECLAIM_AFTER_S = 30.0  # a running remux writes progress every second


class UploadRejected(ValueError):
    """The reason is shown to the user as is."""


class RemuxFailed(RuntimeError):
    """The reason is kept on the stream (`status_reason`) and shown to the user as is."""


class _StreamGone(RuntimeError):
    """The stream was deleted while its upload was being remuxed."""


@dataclass(frozen=True)
class Probe:
    container: str
    video: str
    audio: str | None
    duration_s: float


def upload_probe(path: Path) -> Probe:
    try:
        # Metadata that is not UTF-8 is no reason to refuse a video (the fuzzer's mutated MP4s).
        with av.open(str(path), metadata_errors="replace") as container:
            if container.format.name not in ALLOWED_CONTAINERS:
                raise UploadRejected(f"container {container.format.name!r} not allowed: upload MP4, MOV or MKV")
            if not container.streams.video or container.streams.video[0].codec_context is None:
                raise UploadRejected("the file has no video stream it can read")
            video = container.streams.video[0].codec_context.name
            audio = _codec_name(container.streams.audio[0]) if container.streams.audio else None
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


def _codec_name(stream) -> str:
    context = stream.codec_context
    return context.name if context is not None else "unknown"


def uploads_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOADS_DIR


def upload_path(stream_id) -> Path:
    """Where an accepted upload waits for its remux: named after its stream, so the sweep
    can delete the upload of a stream whose remux was lost."""
    return uploads_dir() / f"{stream_id}.upload"


def upload_accept(*, owner, name: str, chunks: Iterable[bytes]) -> Stream:
    """Stores the upload, probes it and creates its batch-mode stream (`processing`), then
    queues the remux. Whatever fails before that (a rejected file, a quota) removes the
    stored file and keeps nothing."""
    directory = uploads_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.upload"
    limit = settings.CONFIG.upload_max_bytes
    try:
        size = 0
        with path.open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(f"larger than {limit} bytes")
                out.write(chunk)
        probe = upload_probe(path)
        with transaction.atomic():
            stream, _ = stream_create(owner=owner, name=name, processing_mode=Stream.Mode.BATCH)
            stream = stream_update(stream=stream, ingest_enabled=False)  # nobody publishes to an upload
            Stream.objects.filter(pk=stream.pk).update(status=Stream.Status.PROCESSING, upload_progress=0.0)
            path = path.rename(upload_path(stream.pk))  # in the transaction: a stream is never without it
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    stream.refresh_from_db()  # the answer says `processing`, however fast the remux then goes
    try:
        upload_dispatch(stream.id, path.name, probe.duration_s)
    except Exception:  # the broker is down: the stream must not wait for a job that never comes
        logger.exception("the remux of upload %s could not be queued", stream.id)
        path.unlink(missing_ok=True)
        _finish(stream.id, Stream.Status.FAILED, reason="the video could not be queued for processing: try again")
        stream.refresh_from_db()
    return stream


def upload_dispatch(stream_id, upload_name: str, duration_s: float) -> None:
    """Queues a remux job. Its token names it when it claims the stream: a job the broker
    delivers again (its worker was killed) has the same token, so it may claim it again."""
    token = uuid.uuid4().hex
    if settings.CELERY_BROKER_URL:
        from streaming.tasks import remux_upload

        remux_upload.apply_async(args=[str(stream_id), upload_name, duration_s, token], queue="batch")
    else:
        _POOL.submit(_remux_in_pool, str(stream_id), upload_name, duration_s, token)


_POOL = BackgroundPool("uploads", lambda: 2)


def upload_pool_drain() -> None:
    _POOL.drain()


def _remux_in_pool(stream_id: str, upload_name: str, duration_s: float, token: str) -> None:
    try:
        upload_remux(stream_id, upload_name, duration_s, token)
    except Exception:
        logger.exception("the remux of upload %s could not finish", stream_id)
    finally:
        close_old_connections()


def upload_remux(stream_id, upload_name: str, duration_s: float, token: str = "") -> str:
    """Remuxes a stored upload into its stream's HLS segments and registers them (which
    dispatches their analysis), once this job holds the stream (`_claimed`); the stored
    upload is deleted when the job ends the stream. A job that loses the stream meanwhile
    (the sweep queued it again) stops and leaves folder and upload to the new holder.
    Returns the stream's final status ("gone" if deleted, finished or held by another job)."""
    token = token or uuid.uuid4().hex  # a job queued before tokens: it claims as a new one
    path, directory = uploads_dir() / Path(upload_name).name, _segments_dir(stream_id)
    if not _claimed(stream_id, token):
        if not Stream.objects.filter(pk=stream_id).exists():
            path.unlink(missing_ok=True)  # the stream was deleted: nobody else will
        return "gone"  # finished, or held by another job (or by this one, still running)
    try:
        if not path.is_file():
            raise RemuxFailed("the stored upload is missing: upload the video again")
        shutil.rmtree(directory, ignore_errors=True)  # a job delivered again starts afresh
        _remux(path, directory, duration_s, progress=lambda fraction: _progress(stream_id, token, fraction))
        playlist_sync(directory / playlist_name(0), Path(settings.MEDIA_ROOT))
    except _StreamGone:
        _discard_if_deleted(stream_id, path, directory)
        return "gone"
    except RemuxFailed as exc:
        _failed(stream_id, token, str(exc), path, directory)
        return Stream.Status.FAILED
    except Exception:
        _failed(stream_id, token, "the video could not be processed (an internal error)", path, directory)
        raise
    if not _finish(stream_id, Stream.Status.ENDED, progress=1.0, token=token):
        _discard_if_deleted(stream_id, path, directory)
        return "gone"
    path.unlink(missing_ok=True)
    return Stream.Status.ENDED


def _segments_dir(stream_id) -> Path:
    return settings.CONFIG.hls_root / str(stream_id)


def _failed(stream_id, token: str, reason: str, path: Path, directory: Path) -> None:
    """Fails the stream this job holds and removes its files; a job that no longer holds it
    leaves them to the holder."""
    if _finish(stream_id, Stream.Status.FAILED, reason=reason, token=token):
        _discard(path, directory)
    else:
        _discard_if_deleted(stream_id, path, directory)


def _discard(path: Path, directory: Path) -> None:
    path.unlink(missing_ok=True)
    shutil.rmtree(directory, ignore_errors=True)


def _discard_if_deleted(stream_id, path: Path, directory: Path) -> None:
    """A job that no longer holds its stream leaves the files to the holder, unless the
    stream was deleted: then nobody else will remove them."""
    if not Stream.objects.filter(pk=stream_id).exists():
        _discard(path, directory)


def uploads_sweep() -> int:
    """`processing` streams whose remux has written no progress for UPLOAD_STALL_S: the job
    is gone (the process that ran it restarted, a worker was killed and its task lost with a
    broker restart), or still waits behind a long queue. The first time, one whose stored
    upload is still readable is queued again (MAX_REQUEUES): the stream is released, a remux
    starts afresh, and a job claims the stream before it starts (`_claimed`), so of two the
    later stops, and one that held it stops at its next progress write. The next time, or
    with no readable upload left, it is failed with the reason and its stored
    upload and partial segments are deleted. Returns how many were queued again or failed.
    A running remux writes progress every second; a job that was only late finds its stream
    failed and stops (upload_remux, _progress).

    Run by the sweep beside the ingest (ai_processing.sweep), one per deployment."""
    now = timezone.now()
    stalled = Stream.objects.filter(
        status=Stream.Status.PROCESSING,
        updated_at__lt=now - timedelta(seconds=settings.CONFIG.upload_stall_s),
    )
    swept = 0
    for stream_id, updated, requeues in stalled.values_list("pk", "updated_at", "remux_requeues")[:SWEEP_BATCH]:
        held = Stream.objects.filter(pk=stream_id, status=Stream.Status.PROCESSING, updated_at=updated)
        duration_s = _readable(upload_path(stream_id)) if requeues < MAX_REQUEUES else None
        if duration_s is not None:
            # Released: the next job to start claims it; one that held it stops at its next progress.
            released = held.update(remux_claim="", remux_requeues=F("remux_requeues") + 1, upload_progress=0.0,
                                   updated_at=now)  # fmt: skip
            if released and _requeued(stream_id, duration_s):
                swept += 1
            continue
        if held.update(status=Stream.Status.FAILED, status_reason=INTERRUPTED, remux_claim="", updated_at=now):
            _failed_in_sweep(stream_id)
            swept += 1
    return swept


def _readable(path: Path) -> float | None:
    """The stored upload's duration, or None when it is gone or no longer a video we take."""
    try:
        return upload_probe(path).duration_s if path.is_file() else None
    except UploadRejected:
        return None


def _requeued(stream_id, duration_s: float) -> bool:
    try:
        upload_dispatch(stream_id, upload_path(stream_id).name, duration_s)
    except Exception:  # the broker is down: still `processing` and released, the next stall fails it
        logger.exception("upload %s: its remux could not be queued again", stream_id)
        return False
    logger.warning("upload %s: no progress for %s s, its remux queued again", stream_id, settings.CONFIG.upload_stall_s)
    return True


def _failed_in_sweep(stream_id) -> None:
    _discard(upload_path(stream_id), _segments_dir(stream_id))
    logger.warning(
        "upload %s: no progress for %s s, its remux was lost; failed", stream_id, settings.CONFIG.upload_stall_s
    )
    _announce(stream_id)


def _claimed(stream_id, token: str) -> bool:
    """Whether this job now holds the stream: `processing`, and held by no job, or by this
    one delivered again once it has written no progress for RECLAIM_AFTER_S (a broker also
    delivers again a job still running past its visibility timeout: that copy stays out)."""
    now = timezone.now()
    silent = now - timedelta(seconds=RECLAIM_AFTER_S)
    free_or_own = Q(remux_claim="") | Q(remux_claim=token, updated_at__lt=silent)
    claimable = Stream.objects.filter(free_or_own, pk=stream_id, status=Stream.Status.PROCESSING)
    return bool(claimable.update(remux_claim=token, updated_at=now))


def _progress(stream_id, token: str, fraction: float) -> None:
    updated = Stream.objects.filter(pk=stream_id, status=Stream.Status.PROCESSING, remux_claim=token).update(
        upload_progress=fraction, updated_at=timezone.now()
    )
    if not updated:
        raise _StreamGone(stream_id)
    _announce(stream_id)


def _finish(
    stream_id, status: str, *, reason: str = "", progress: float | None = None, token: str | None = None
) -> bool:
    """Ends a `processing` stream (held by `token`'s job, when given); whether it did."""
    changes = {"status": status, "status_reason": reason, "remux_claim": "", "updated_at": timezone.now()}
    if progress is not None:
        changes["upload_progress"] = progress
    processing = Stream.objects.filter(pk=stream_id, status=Stream.Status.PROCESSING)
    if token is not None:
        processing = processing.filter(remux_claim=token)
    if not processing.update(**changes):
        return False
    _announce(stream_id)
    return True


def _announce(stream_id) -> None:
    """Sends the stream's state to its viewers; the stored state stands if that fails."""
    try:
        stream = Stream.objects.filter(pk=stream_id).first()
        if stream is not None:
            broadcast_on_commit(stream.id, stream_state_message(stream))
    except Exception:
        logger.exception("upload %s: its state was not sent", stream_id)


def _remux(path: Path, directory: Path, duration_s: float, progress) -> None:
    """Copies the streams into HLS segments (never re-encodes). ffmpeg reports how far it is
    on stdout (`-progress`): `progress(fraction)` is called at most once a second. A corrupt
    input stops it (`-xerror`), so a file cut off mid-stream fails instead of ending short."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-xerror",
        "-progress", "pipe:1", "-nostats", "-i", str(path),
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-bsf:v", "h264_mp4toannexb",
        "-f", "hls", "-hls_time", str(settings.CONFIG.hls_segment_seconds), "-hls_list_size", "0",
        "-hls_playlist_type", "vod", "-hls_flags", "program_date_time+independent_segments",
        "-hls_segment_filename", str(directory / "seg_%06d.ts"), str(directory / playlist_name(0)),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: nobody has to drain it
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert process.stdout is not None  # stdout=PIPE
        timed_out = threading.Event()
        timer = threading.Timer(REMUX_TIMEOUT_S, lambda: (timed_out.set(), process.kill()))  # type: ignore[func-returns-value]
        timer.start()
        last_write = 0.0
        try:
            for line in process.stdout:
                key, _, value = line.strip().partition("=")
                if key != "out_time_us" or not value.isdigit():
                    continue
                now = time.monotonic()
                if now - last_write >= PROGRESS_INTERVAL_S:
                    last_write = now
                    progress(min(0.99, int(value) / 1e6 / duration_s))  # 1.0 once registered
            returncode = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            timer.cancel()
            process.stdout.close()
        if returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace").strip()[-200:]
            if timed_out.is_set():
                raise RemuxFailed(f"the video could not be segmented within {REMUX_TIMEOUT_S} s")
            raise RemuxFailed(f"the video could not be segmented: {tail or f'ffmpeg exited with {returncode}'}")
