"""Writes to streams. Each function is one thing a user or the ingest does."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from media_analyzer.events import broadcast_on_commit
from media_analyzer.files import files_delete_on_commit
from media_analyzer.quotas import quota_check
from streaming.hooks import SegmentRegistered, segment_registered
from streaming.keys import key_digest, key_generate
from streaming.messages import stream_state_message
from streaming.models import MediaSegment, Stream

logger = logging.getLogger(__name__)


def stream_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    processing_mode: str = Stream.Mode.REALTIME,
    enabled_analyzers: list[str] | None = None,
    sampling_fps: float = 2.0,
) -> tuple[Stream, str]:
    """Returns the stream and its key; the key is not stored and cannot be read again."""
    quota_check(owner=owner, name="streams", count=Stream.objects.filter(owner=owner).count, what="stream")
    key = key_generate()
    stream = Stream.objects.create(
        owner=owner,
        name=name,
        key_digest=key_digest(key),
        key_rotated_at=timezone.now(),
        processing_mode=processing_mode,
        enabled_analyzers=list(settings.CONFIG.analyzers) if enabled_analyzers is None else enabled_analyzers,
        sampling_fps=sampling_fps,
    )
    return stream, key


_UPDATABLE = {
    "name", "ingest_enabled", "processing_mode", "analysis_enabled", "enabled_analyzers", "sampling_fps",
    "backfill_skipped",
}  # fmt: skip


def stream_update(*, stream: Stream, **changes) -> Stream:
    """Mode, analyzers and sampling take effect at the stream's next segment."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise TypeError(f"not updatable: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(stream, field, value)
    stream.save(update_fields=[*changes, "updated_at"])
    return stream


def stream_rotate_key(*, stream: Stream) -> str:
    """The old key stops working at once; the ingest cuts off a publisher live on it within
    a second (streaming.ingest.sessions.REVOCATION_CHECK_S), as it does when ingest is disabled."""
    key = key_generate()
    stream.key_digest = key_digest(key)
    stream.key_rotated_at = timezone.now()
    stream.save(update_fields=["key_digest", "key_rotated_at", "updated_at"])
    return key


@transaction.atomic
def stream_delete(*, stream: Stream) -> None:
    files_delete_on_commit(segment.file for segment in stream.segments.all())
    stream_id = stream.pk
    stream.delete()
    # Playlists and segments not (yet) registered are only in the stream's HLS folder.
    transaction.on_commit(lambda: stream_directory_delete(stream_id=stream_id))


def stream_directory_delete(*, stream_id) -> bool:
    """Removes the stream's HLS folder: only a real folder directly in HLS_ROOT, inside
    MEDIA_ROOT, so a symlink or an odd setting cannot point the deletion elsewhere."""
    hls_root = Path(settings.CONFIG.hls_root).resolve()
    directory = hls_root / str(stream_id)
    if not directory.exists() and not directory.is_symlink():
        return False
    media_root = Path(settings.MEDIA_ROOT).resolve()
    if directory.is_symlink() or directory.resolve().parent != hls_root or not hls_root.is_relative_to(media_root):
        logger.warning("stream folder %s not deleted: not a folder in %s inside %s", directory, hls_root, media_root)
        return False
    shutil.rmtree(directory, ignore_errors=True)  # the ingest may still be writing a last file
    return True


def stream_go_live(*, stream: Stream) -> bool:
    """Claims the stream for one publisher; False when another is already live on it."""
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            Stream.objects.filter(pk=stream.pk)
            .exclude(status=Stream.Status.LIVE)
            .update(status=Stream.Status.LIVE, live_since=now, updated_at=now)
        )
        if claimed:
            stream.status, stream.live_since = Stream.Status.LIVE, now
            broadcast_on_commit(stream.id, stream_state_message(stream))
    return bool(claimed)


def stream_go_offline(*, stream: Stream) -> None:
    with transaction.atomic():
        Stream.objects.filter(pk=stream.pk).update(status=Stream.Status.OFFLINE, updated_at=timezone.now())
        stream.status = Stream.Status.OFFLINE
        broadcast_on_commit(stream.id, stream_state_message(stream))


def streams_reset_live() -> int:
    """At ingest start-up nothing is publishing yet: clear what a crash left live."""
    return Stream.objects.filter(status=Stream.Status.LIVE).update(status=Stream.Status.OFFLINE)


def segment_register(
    *, stream_id, seq: int, name: str, duration: float, program_date_time, size: int
) -> MediaSegment | None:
    """Registers a closed segment exactly once and hands it on (`segment_registered`: to
    ai_processing's dispatcher).

    Returns None when (stream, seq) is already registered: the watcher may see a playlist
    many times, and again after a restart. Segments are registered in seq order, so the
    stream time of one is where the one before it ended."""
    if MediaSegment.objects.filter(stream_id=stream_id, seq=seq).exists():
        return None
    previous = MediaSegment.objects.filter(stream_id=stream_id, seq__lt=seq).order_by("-seq").first()
    start_pts = previous.start_pts + previous.duration if previous else 0.0
    try:
        with transaction.atomic():
            segment = MediaSegment.objects.create(
                stream_id=stream_id,
                seq=seq,
                file=name,
                duration=duration,
                start_pts=start_pts,
                program_date_time=program_date_time,
                bytes=size,
            )
            # robust: a dispatch that fails (broker down) is logged, not raised into the ingest;
            # the row stays pending and the sweep (ai_processing.sweep) dispatches it again.
            transaction.on_commit(lambda: segment_registered.emit(SegmentRegistered(segment)), robust=True)
    except IntegrityError:  # registered concurrently by another watcher
        return None
    return segment


def segment_files_expire(*, older_than_hours: float) -> int:
    """Deletes the media of segments older than the retention; their rows, and every
    analysis result, are kept. Returns how many files went."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    expired = MediaSegment.objects.filter(program_date_time__lt=cutoff).exclude(file="")
    count = 0
    for segment in expired.iterator():
        segment.file.storage.delete(segment.file.name)
        MediaSegment.objects.filter(pk=segment.pk).update(file="", updated_at=timezone.now())
        count += 1
    return count
