"""Writes to brands and their reference images."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from ai_processing.analyzers.base import Finding
from ai_processing.messages import frame_message, segment_message, segment_summary
from ai_processing.models import Brand, BrandReferenceImage, Detection, FrameAnalysis
from media_analyzer.events import broadcast
from media_analyzer.files import files_delete_on_commit
from streaming.models import MediaSegment


def brand_create(*, owner: AbstractBaseUser, name: str, aliases: list[str] | None = None) -> Brand:
    return Brand.objects.create(owner=owner, name=name, aliases=_clean_aliases(aliases or []))


def brand_update(*, brand: Brand, name: str | None = None, aliases: list[str] | None = None) -> Brand:
    if name is not None:
        brand.name = name
    if aliases is not None:
        brand.aliases = _clean_aliases(aliases)
    brand.save(update_fields=["name", "aliases"])
    return brand


@transaction.atomic
def brand_delete(*, brand: Brand) -> None:
    files_delete_on_commit(reference.image for reference in brand.reference_images.all())
    brand.delete()


def brand_reference_image_add(*, brand: Brand, image: UploadedFile) -> BrandReferenceImage:
    """`image` must already be validated as a decodable image (the serializer does it)."""
    return BrandReferenceImage.objects.create(brand=brand, image=image)


def _clean_aliases(aliases: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for alias in aliases:
        alias = alias.strip()
        if alias:
            seen.setdefault(alias.casefold(), alias)
    return list(seen.values())


@transaction.atomic
def brand_reference_image_delete(*, reference: BrandReferenceImage) -> None:
    files_delete_on_commit([reference.image])
    reference.delete()


def results_store(
    *,
    segment: MediaSegment,
    pts: list[float],
    findings: list[list[tuple[str, Finding]]],
    timings: dict[str, float],
    note: str = "",
) -> list[FrameAnalysis]:
    """Replaces the segment's results in one transaction (so a re-run never duplicates),
    marks it done, and publishes one `analysis.frame` per frame after commit."""
    with transaction.atomic():
        FrameAnalysis.objects.filter(segment=segment).delete()
        rows = FrameAnalysis.objects.bulk_create(
            FrameAnalysis(
                segment=segment, stream_id=segment.stream_id, pts=frame_pts,
                pdt=segment.program_date_time + timedelta(seconds=frame_pts - segment.start_pts), timings=timings,
            )  # fmt: skip
            for frame_pts in pts
        )
        detections = [
            _detection(row, analyzer, finding) for row, frame_findings in zip(rows, findings)
            for analyzer, finding in frame_findings
        ]  # fmt: skip
        _forget_deleted_brands(detections)
        Detection.objects.bulk_create(detections)
        MediaSegment.objects.filter(pk=segment.pk).update(
            state=MediaSegment.State.DONE, state_reason=note, updated_at=timezone.now()
        )
        by_frame: dict[int, list[Detection]] = {row.pk: [] for row in rows}
        for detection in detections:
            by_frame[detection.frame.pk].append(detection)
        messages = [frame_message(segment.stream_id, segment.seq, row, by_frame[row.pk]) for row in rows]
        messages.append(segment_message(segment, "done", note, segment_summary(detections)))
        transaction.on_commit(lambda: [broadcast(segment.stream_id, message) for message in messages])
    return rows


def _detection(row: FrameAnalysis, analyzer: str, finding: Finding) -> Detection:
    x, y = _unit(finding.box.x), _unit(finding.box.y)
    return Detection(
        frame=row, stream_id=row.stream_id, pdt=row.pdt, pts=row.pts, analyzer=analyzer, kind=finding.kind,
        label=finding.label[:200], confidence=_unit(finding.confidence), x=x, y=y,
        w=min(_unit(finding.box.w), 1 - x), h=min(_unit(finding.box.h), 1 - y), extra=finding.extra,
        brand_id=finding.extra.get("brand_id"),
    )  # fmt: skip


def _forget_deleted_brands(detections: list[Detection]) -> None:
    """A brand deleted while its segment was analysed keeps its sightings, unlinked."""
    linked = {d.brand_id for d in detections if d.brand_id is not None}
    existing = set(Brand.objects.filter(pk__in=linked).values_list("pk", flat=True)) if linked else set()
    for detection in detections:
        if detection.brand_id is not None and detection.brand_id not in existing:
            detection.brand_id = None


def _unit(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)
