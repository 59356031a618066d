"""One analysis job: a closed segment in, stored and published results out.

decode (PyAV) -> sample -> every enabled analyzer -> results_store. A job is idempotent:
a segment that is already done, skipped or failed is left alone, and a re-run (a worker
killed mid-task) replaces the segment's results in one transaction."""

from __future__ import annotations

import logging
import time

import av
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from ai_processing.analyzers.base import Finding, Frame
from ai_processing.analyzers.loaded import analyzer_get
from ai_processing.frames import frames_sampled
from ai_processing.services import results_store
from streaming.models import MediaSegment, Stream

logger = logging.getLogger(__name__)
State = MediaSegment.State


def segment_analyze(segment_id: int) -> str:
    """Runs the job and returns the segment's final state. A poisoned segment ends
    `failed` with its reason; only database outages propagate, for the task to retry."""
    segment = _claim(segment_id)
    if segment is None:
        return MediaSegment.objects.filter(pk=segment_id).values_list("state", flat=True).first() or "missing"
    try:
        return _analyze(segment)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("analysis of segment %s crashed", segment_id)
        return _finish(segment, State.FAILED, f"internal error: {type(exc).__name__}: {exc}")


def _analyze(segment: MediaSegment) -> str:
    stream = segment.stream
    reason = _reason_to_skip(segment, stream)
    if reason:
        return _finish(segment, State.SKIPPED, reason)
    analyzers = [a for a in map(analyzer_get, stream.enabled_analyzers) if a and (a.light or _batch(stream))]
    try:
        frames = [
            Frame(segment.start_pts + offset, image)
            for offset, image in frames_sampled(segment.file.path, _sampling_fps(stream))
        ]
    except (av.FFmpegError, OSError, IndexError) as exc:
        return _finish(segment, State.FAILED, f"cannot decode segment: {exc}")
    if not frames:
        return _finish(segment, State.FAILED, "segment has no video frames")
    findings: list[list[tuple[str, Finding]]] = [[] for _ in frames]
    timings: dict[str, float] = {}
    errors: list[str] = []
    for analyzer in analyzers:
        started = time.perf_counter()
        try:
            per_frame = analyzer.analyze(frames)
        except Exception as exc:  # one failing analyzer never stops the others
            logger.exception("analyzer %s failed on segment %s", analyzer.key, segment.pk)
            errors.append(f"{analyzer.key} failed: {exc}")
            continue
        timings[analyzer.key] = round((time.perf_counter() - started) * 1000 / len(frames), 2)
        for index, frame_findings in enumerate(per_frame):
            findings[index].extend((analyzer.key, finding) for finding in frame_findings)
    results_store(segment=segment, frames=frames, findings=findings, timings=timings, note="; ".join(errors))
    return State.DONE


def _claim(segment_id: int) -> MediaSegment | None:
    """pending -> analyzing. An `analyzing` segment is claimed again: its last worker died."""
    with transaction.atomic():
        claimed = MediaSegment.objects.filter(pk=segment_id, state__in=[State.PENDING, State.ANALYZING]).update(
            state=State.ANALYZING, updated_at=timezone.now()
        )
    return MediaSegment.objects.select_related("stream").get(pk=segment_id) if claimed else None


def _reason_to_skip(segment: MediaSegment, stream: Stream) -> str:
    if not stream.analysis_enabled:
        return "analysis is stopped for this stream"
    if not _batch(stream):
        lag = (timezone.now() - segment.program_date_time).total_seconds() - segment.duration
        if lag > settings.MEDIA_ANALYZER["REALTIME_LAG_BOUND_S"]:
            return f"stale: {lag:.1f} s behind live (realtime mode keeps the newest segments)"
    return ""


def _batch(stream: Stream) -> bool:
    return stream.processing_mode == Stream.Mode.BATCH


def _sampling_fps(stream: Stream) -> float:
    return min(stream.sampling_fps * 2, 10.0) if _batch(stream) else stream.sampling_fps


def _finish(segment: MediaSegment, state: str, reason: str) -> str:
    if state == State.FAILED:
        logger.warning("segment %s failed: %s", segment.pk, reason)
    MediaSegment.objects.filter(pk=segment.pk).update(state=state, state_reason=reason, updated_at=timezone.now())
    return state
