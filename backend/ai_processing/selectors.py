"""Reads of analysis results and brands, scoped to what a user may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ai_processing.analyzers.base import AnalyzerStatus
from ai_processing.analyzers.registry import analyzer_types
from ai_processing.messages import frame_message
from ai_processing.models import Brand, Detection, FrameAnalysis
from streaming.models import Stream


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
    detections = Detection.objects.filter(stream=stream)
    if since is not None:
        detections = detections.filter(pdt__gte=since)
    if until is not None:
        detections = detections.filter(pdt__lt=until)
    if since_pts is not None:
        detections = detections.filter(pts__gte=since_pts)
    if until_pts is not None:
        detections = detections.filter(pts__lt=until_pts)
    if kinds:
        detections = detections.filter(kind__in=kinds)
    return detections.order_by("pdt", "id")


def brand_visible_to(user: AbstractBaseUser) -> QuerySet[Brand]:
    brands = Brand.objects.prefetch_related("reference_images")
    return brands if user.is_staff else brands.filter(owner=user)


def analyzer_statuses() -> list[AnalyzerStatus]:
    """The state of every known analyzer; ones not enabled by ANALYZERS say so."""
    enabled = settings.MEDIA_ANALYZER["ANALYZERS"]
    models_dir = settings.MEDIA_ANALYZER["MODELS_DIR"]
    statuses = []
    for name, analyzer_type in sorted(analyzer_types().items()):
        if name not in enabled:
            statuses.append(AnalyzerStatus(name, "disabled", "not in ANALYZERS"))
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
