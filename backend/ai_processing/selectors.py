"""Reads of analysis results and brands, scoped to what a user may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet
from django.utils import timezone

from ai_processing.analyzers.base import AnalyzerStatus, Box, SeenLogo
from ai_processing.analyzers.registry import analyzer_types
from ai_processing.messages import frame_message
from ai_processing.models import Brand, Detection, FrameAnalysis, LogoCorrection
from ai_processing.player_draws import player_draws_recent
from streaming.models import MediaSegment, Stream


def detection_list(
    *,
    stream: Stream,
    since: datetime | None = None,
    until: datetime | None = None,
    since_pts: float | None = None,
    until_pts: float | None = None,
    kinds: list[str] | None = None,
) -> QuerySet[Detection]:
    """Detections in [since, until) by wall clock, or [since_pts, until_pts) by stream time."""
    bounds = {"pdt__gte": since, "pdt__lt": until, "pts__gte": since_pts, "pts__lt": until_pts}
    detections = Detection.objects.filter(stream=stream)
    detections = detections.filter(**{lookup: value for lookup, value in bounds.items() if value is not None})
    if kinds:
        detections = detections.filter(kind__in=kinds)
    return detections.order_by("pdt", "id")


def frame_list(
    *,
    stream: Stream,
    since: datetime | None = None,
    until: datetime | None = None,
    since_pts: float | None = None,
    until_pts: float | None = None,
) -> QuerySet[FrameAnalysis]:
    """Analysed frames in a time range (by pdt or pts), with their detections and segment."""
    frames = FrameAnalysis.objects.filter(stream=stream)
    bounds = {"pdt__gte": since, "pdt__lt": until, "pts__gte": since_pts, "pts__lt": until_pts}
    frames = frames.filter(**{lookup: value for lookup, value in bounds.items() if value is not None})
    return frames.select_related("segment").prefetch_related("detections").order_by("pdt", "id")


def brand_visible_to(user: AbstractBaseUser) -> QuerySet[Brand]:
    brands = Brand.objects.prefetch_related("reference_images", "corrections")
    return brands if user.is_staff else brands.filter(owner=user)


def logo_corrections_of(brand: Brand) -> QuerySet[LogoCorrection]:
    return LogoCorrection.objects.filter(brand=brand).select_related("stream").order_by("-created_at", "-id")


def analyzer_statuses() -> list[AnalyzerStatus]:
    """The state of every known analyzer; ones not enabled by ANALYZERS say so."""
    enabled = settings.CONFIG.analyzers
    models_dir = settings.CONFIG.resolved_models_dir
    statuses = []
    for name, analyzer_type in sorted(analyzer_types().items()):
        if name not in enabled:
            statuses.append(AnalyzerStatus(name, "disabled", f"not in ANALYZERS: add {name} to it to enable it"))
        else:
            statuses.append(analyzer_type(models_dir).status())
    return statuses


def frames_recent(*, stream: Stream, seconds: float, limit: int = 100) -> list[dict]:
    """The last `seconds` of analysed frames, up to the newest one, as wire messages: the
    snapshot a viewer who joins mid-stream draws from at once."""
    newest = FrameAnalysis.objects.filter(stream=stream).order_by("-pdt").values_list("pdt", flat=True).first()
    if newest is None:
        return []
    rows = (
        FrameAnalysis.objects.filter(stream=stream, pdt__gte=newest - timedelta(seconds=seconds))
        .select_related("segment")
        .prefetch_related("detections")
        .order_by("-pdt")[:limit]
    )
    return [frame_message(stream.id, row.segment.seq, row, list(row.detections.all())) for row in reversed(rows)]


def logos_before(*, segment: MediaSegment, seconds: float, brand_ids: frozenset[int] | None = None) -> list[SeenLogo]:
    """The brand logos the logo analyzer stored for the stream's last analysed frame in the
    `seconds` before the segment (none when that frame showed none): what the analyzer's
    first frame is compared with."""
    start = segment.program_date_time
    last = (
        FrameAnalysis.objects.filter(
            stream_id=segment.stream_id, pdt__gte=start - timedelta(seconds=seconds), pdt__lt=start
        )
        .order_by("-pdt")
        .first()
    )
    if last is None:
        return []
    rows = Detection.objects.filter(frame=last, analyzer="logos", kind="logo", brand__isnull=False)
    if brand_ids is not None:
        rows = rows.filter(brand_id__in=brand_ids)
    return [
        SeenLogo(brand_id, last.pts, Box(x, y, w, h))
        for brand_id, x, y, w, h in rows.values_list("brand_id", "x", "y", "w", "h")
    ]


def queue_depths() -> dict[str, int]:
    """Segments waiting for or in analysis, per queue."""
    depths = {"realtime": 0, "batch": 0}
    rows = (
        MediaSegment.objects.filter(state__in=[MediaSegment.State.PENDING, MediaSegment.State.ANALYZING])
        .values("stream__processing_mode")
        .annotate(count=Count("id"))
    )
    for row in rows:
        depths[row["stream__processing_mode"]] = row["count"]
    return depths


def pipeline_stats(*, stream: Stream, depths: dict[str, int], window_s: float = 10.0) -> dict:
    """The `pipeline.stats` message: how far behind live analysis is, how long a segment
    takes from closed to published (p50, p95 of the last 30), frames analysed per second."""
    now = timezone.now()
    newest = FrameAnalysis.objects.filter(stream=stream).order_by("-pdt").values_list("pdt", flat=True).first()
    done = list(
        MediaSegment.objects.filter(stream=stream, state=MediaSegment.State.DONE)
        .order_by("-seq")
        .values_list("created_at", "updated_at", "trace")[:30]
    )
    durations = sorted((updated - created).total_seconds() for created, updated, _ in done)
    recent = FrameAnalysis.objects.filter(stream=stream, created_at__gte=now - timedelta(seconds=window_s)).count()
    drawn, drawn_on_frame = player_draws_recent(stream_id=str(stream.id))
    return {
        "type": "pipeline.stats",
        "stream_id": str(stream.id),
        "queue_depth": depths,
        "lag_s": round((now - newest).total_seconds(), 3) if newest else None,
        "latency_p50_s": _percentile(durations, 0.5),
        "latency_p95_s": _percentile(durations, 0.95),
        "frames_per_s": round(recent / window_s, 2),
        "stages": _stages([trace for _, _, trace in done], drawn),
        "drawn_on_frame": drawn_on_frame,
        "dropped": 0,
    }


def _stages(traces: list[dict], drawn: list[float]) -> dict[str, dict[str, float | None]]:
    """p50 and p95 of each pipeline stage over the segments' traces, in pipeline order, and
    of "drawn" (arrival to drawing) over the players' reports."""
    seconds: dict[str, list[float]] = {"drawn": drawn} if drawn else {}
    for trace in traces:
        for stage, value in trace.items():
            seconds.setdefault(stage, []).append(value)
    each = sorted(s for s in seconds if s.startswith("analyze:"))  # they overlap: they run at once
    order = ["close", "dispatch", "queue", "decode", "analyze", *each, "store", "send", "drawn", "total"]
    return {
        stage: {"p50": _percentile(sorted(seconds[stage]), 0.5), "p95": _percentile(sorted(seconds[stage]), 0.95)}
        for stage in order
        if stage in seconds
    }


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)
