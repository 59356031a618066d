"""Writes to brands, their reference images and logo corrections, and analysis results."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import av
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from ai_processing.analyzers.base import Finding
from ai_processing.messages import frame_message, segment_message, segment_summary
from ai_processing.models import Brand, BrandReferenceImage, Detection, FrameAnalysis, LogoCorrection
from media_analyzer.events import broadcast
from media_analyzer.files import files_delete_on_commit
from media_analyzer.quotas import quota_check
from streaming.models import MediaSegment, Stream

if TYPE_CHECKING:
    from ai_processing.analyzers.logo_corrections import Crop

logger = logging.getLogger(__name__)
# In the segment's trace: the brands (ids) its live pass skipped, their verifiers not built
# yet. The logo recheck looks for these alone; the pass's findings of the others stand.
LOGOS_AWAITED = "logos_awaited"


def brand_create(*, owner: AbstractBaseUser, name: str, aliases: list[str] | None = None) -> Brand:
    quota_check(owner=owner, name="brands", count=Brand.objects.filter(owner=owner).count, what="brand")
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
    files_delete_on_commit(correction.image for correction in brand.corrections.all())
    brand.delete()


@transaction.atomic
def brand_reference_image_add(*, brand: Brand, image: UploadedFile) -> BrandReferenceImage:
    """`image` must already be validated as a decodable image (the serializer does it).
    The brand's logo verifier is rebuilt once the image is stored."""
    quota_check(
        owner=brand.owner, name="brand_images", count=brand.reference_images.count, what="reference image", per="brand"
    )
    reference = BrandReferenceImage.objects.create(brand=brand, image=image)
    brand_verifier_request(brand=brand)
    return reference


def brand_verifier_request(*, brand: Brand) -> None:
    """Marks the verifier building and builds it after commit, off the request."""
    from ai_processing.dispatch import verifier_dispatch

    Brand.objects.filter(pk=brand.pk).update(verifier_state=Brand.VerifierState.BUILDING)
    transaction.on_commit(lambda: verifier_dispatch(brand.pk))


def brand_verifier_build(*, brand_id: int) -> None:
    """Builds the brand's verifier from its reference images now, and stores it unless the
    images changed meanwhile (the build that change queued stores its own)."""
    from ai_processing.analyzers.base import LogoReference
    from ai_processing.analyzers.plugins.logos import brand_verifier_build as build

    references = list(BrandReferenceImage.objects.filter(brand_id=brand_id).select_related("brand"))
    try:
        built = build(
            [LogoReference(r.brand_id, r.brand.name, r.cache_key(), r.image_read) for r in references],
            _corrected_logos(brand_id),
        )
    except Exception as exc:  # stored as the brand's state: the brand page shows it
        Brand.objects.filter(pk=brand_id).update(
            verifier_state=Brand.VerifierState.FAILED, verifier_warnings=[f"building the verifier failed: {exc}"]
        )
        raise
    with transaction.atomic():
        brand = Brand.objects.select_for_update().filter(pk=brand_id).first()
        if brand is None or _verifier_key_now(brand_id) != built.key:
            return
        verifier = built.verifier
        brand.verifier = verifier.to_bytes() if verifier else None
        brand.verifier_key = built.key
        brand.verifier_state = Brand.VerifierState.READY if verifier else Brand.VerifierState.NONE
        brand.verifier_seconds = round(verifier.seconds, 2) if verifier else None
        brand.verifier_precision = round(verifier.precision, 3) if verifier else None
        brand.verifier_recall = round(verifier.recall, 3) if verifier else None
        brand.verifier_warnings = built.warnings
        brand.save()


def _corrected_logos(brand_id: int):
    from ai_processing.analyzers.base import CorrectedLogo

    return [
        CorrectedLogo(fix.brand_id, fix.kind, fix.cache_key(), fix.image_read, fix.box)
        for fix in LogoCorrection.objects.filter(brand_id=brand_id)
    ]


def _verifier_key_now(brand_id: int) -> str:
    """The key of the verifier the brand's current references and corrections make."""
    from ai_processing.analyzers.plugins.logos import verifier_key

    references = BrandReferenceImage.objects.filter(brand_id=brand_id).select_related("brand")
    corrections = LogoCorrection.objects.filter(brand_id=brand_id)
    return verifier_key((r.cache_key() for r in references), (fix.cache_key() for fix in corrections))


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
    brand = reference.brand
    reference.delete()
    brand_verifier_request(brand=brand)


def results_store(
    *,
    segment: MediaSegment,
    pts: list[float],
    findings: list[list[tuple[str, Finding]]],
    timings: dict[str, float],
    analyzers: list[str],
    owns_state: bool = True,
    note: str = "",
    degraded: dict | None = None,
    final: bool = True,
    brands: frozenset[int] | None = None,
    sent: dict[str, float] | None = None,
) -> list[FrameAnalysis]:
    """Replaces the results of `analyzers` for the segment in one transaction, so a re-run
    never duplicates and another job's analyzers on the same frames are kept. `brands`: only
    these brands' results of `analyzers` are replaced (a logo recheck), the others' stand.
    The job that owns the segment's state marks it done, or leaves it analyzing when its
    results are not `final` yet (a check still to come). One `analysis.frame` per frame is
    published after commit, naming the analyzers it reports, with all their detections; the
    seconds that took go in `sent["seconds"]` (the trace's "send")."""
    with transaction.atomic():
        # The segment's jobs store one at a time: the later one sees the other's rows.
        state = MediaSegment.objects.select_for_update().values_list("state", flat=True).get(pk=segment.pk)
        replaced = Detection.objects.filter(frame__segment=segment, analyzer__in=analyzers)
        if brands is not None:
            replaced = replaced.filter(brand_id__in=brands)
        replaced.delete()
        rows = _frames_upsert(segment, pts, timings)
        detections = [
            _detection(row, analyzer, finding)
            for row, frame_findings in zip(rows, findings)
            for analyzer, finding in frame_findings
        ]
        _forget_deleted_brands(detections)
        Detection.objects.bulk_create(detections)
        if owns_state:  # no lease either way: done, or waiting for its logo recheck, not for a job
            state = MediaSegment.State.DONE if final else MediaSegment.State.ANALYZING
            MediaSegment.objects.filter(pk=segment.pk).update(
                state=state, state_reason=note, lease_until=None, updated_at=timezone.now()
            )
        by_frame: dict[int, list[Detection]] = {row.pk: [] for row in rows}
        if brands is not None:  # a receiver replaces the frame's detections of `analyzers`: send the kept too
            detections = list(Detection.objects.filter(frame__in=rows, analyzer__in=analyzers).order_by("pk"))
        for detection in detections:
            by_frame[detection.frame_id].append(detection)
        reported = sorted(analyzers)
        messages = [frame_message(segment.stream_id, segment.seq, row, by_frame[row.pk], reported) for row in rows]
        if state == MediaSegment.State.DONE:  # the summary covers every job's results stored so far
            summary = segment_summary(list(Detection.objects.filter(frame__segment=segment)))
            messages.append(segment_message(segment, "done", note, summary, degraded))
        # robust: a channel layer that fails (Redis down) loses these events, logged, never the
        # stored results; viewers that miss them get the snapshot when they reconnect.
        transaction.on_commit(lambda: _broadcast_timed(segment.stream_id, messages, sent), robust=True)
    return rows


def _broadcast_timed(stream_id, messages: list[dict], sent: dict[str, float] | None) -> None:
    started = time.perf_counter()
    for message in messages:
        broadcast(stream_id, message)
    if sent is not None:
        sent["seconds"] = time.perf_counter() - started


def segment_end_announce(segment: MediaSegment, state: str, reason: str) -> None:
    """Sends a segment that ended without results (skipped, failed) to its viewers. The
    stored state stands whatever happens to the event (a channel layer out of reach)."""
    try:
        broadcast(segment.stream_id, segment_message(segment, state, reason))
    except Exception:
        logger.exception("segment %s: the %s event was not sent", segment.pk, state)


def _frames_upsert(segment: MediaSegment, pts: list[float], timings: dict[str, float]) -> list[FrameAnalysis]:
    """The segment's frame rows at `pts`, in that order; each job's timings merge into them."""
    FrameAnalysis.objects.bulk_create(
        [
            FrameAnalysis(
                segment=segment,
                stream_id=segment.stream_id,
                pts=frame_pts,
                pdt=segment.program_date_time + timedelta(seconds=frame_pts - segment.start_pts),
                timings=timings,
            )
            for frame_pts in pts
        ],
        ignore_conflicts=True,  # the segment's other job may have made them
    )
    existing = {row.pts: row for row in FrameAnalysis.objects.filter(segment=segment, pts__in=pts)}
    rows = [existing[frame_pts] for frame_pts in pts]
    stale = [row for row in rows if any(row.timings.get(key) != value for key, value in timings.items())]
    for row in stale:
        row.timings = {**row.timings, **timings}
    FrameAnalysis.objects.bulk_update(stale, ["timings"])
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


class CorrectionError(ValueError):
    """A correction that cannot be made, with a message for the user (the API's 400)."""


@transaction.atomic
def logo_correction_add(
    *, brand: Brand, kind: str, crop: Crop, stream: Stream | None = None, pts: float | None = None, rebuild: bool = True
) -> LogoCorrection:
    """Stores a crop as a negative or positive of the brand. The logos analyzer uses it from
    the next job on; the brand's verifier is rebuilt with it after commit (`rebuild`)."""
    from ai_processing.analyzers.logo_corrections import crop_png

    x, y, w, h = crop.box
    height, width = crop.image.shape[:2]
    correction = LogoCorrection(brand=brand, kind=kind, stream=stream, pts=pts, box_x=x, box_y=y, box_w=w, box_h=h)
    correction.image.save(f"{brand.pk}-{kind}.png", ContentFile(crop_png(crop)), save=False)
    correction.width, correction.height = width, height  # a ContentFile has no dimensions to read
    correction.save()
    if rebuild:
        brand_verifier_request(brand=brand)
    return correction


@transaction.atomic
def logo_correction_delete(*, correction: LogoCorrection) -> None:
    """Undoes a correction: from the next job on, and in the rebuilt verifier. Findings it
    changed stay as they are until their segment is analysed again."""
    files_delete_on_commit([correction.image])
    brand = correction.brand
    correction.delete()
    brand_verifier_request(brand=brand)


def logo_missed(
    *,
    stream: Stream,
    brand: Brand,
    pts: float | None = None,
    at: datetime | None = None,
    box: tuple[float, float, float, float] | None = None,
) -> LogoCorrection:
    """ "Missed here": the brand's logo is in the stream's frame at `pts` (or wall clock `at`),
    inside `box` (normalised 0..1) or, without one, where the brand's best candidate is at
    a lower silhouette bar. Stores that region as a positive, then checks the segment again
    for logos (after the verifier's rebuild, in the same queue), which re-derives the exposure.
    Raises CorrectionError when there is no frame there or nothing to outline."""
    from ai_processing.analyzers.logo_corrections import POSITIVE, crop_at

    segment = _segment_at(stream, pts, at)
    offset = (pts - segment.start_pts) if pts is not None else (at - segment.program_date_time).total_seconds()
    try:
        found_offset, image = _frame_at(segment, offset)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise CorrectionError(f"the video of that moment is no longer available ({exc})") from exc
    box = box or _best_candidate(brand, image)
    crop = crop_at(image, box)
    if not _outlined(brand, crop):
        raise CorrectionError(f"no region in {brand.name}'s colours and shape there: draw the box around the logo")
    with transaction.atomic():
        correction = logo_correction_add(
            brand=brand, kind=POSITIVE, crop=crop, stream=stream, pts=segment.start_pts + found_offset
        )
        _awaited_add(segment.pk, brand.pk)
        transaction.on_commit(lambda: _recheck(segment.pk))
    return correction


def _segment_at(stream: Stream, pts: float | None, at: datetime | None) -> MediaSegment:
    segments = MediaSegment.objects.filter(stream=stream, state=MediaSegment.State.DONE)
    if pts is not None:
        segment = segments.filter(start_pts__lte=pts).order_by("-start_pts").first()
        inside = segment is not None and pts <= segment.start_pts + segment.duration
    else:
        segment = segments.filter(program_date_time__lte=at).order_by("-program_date_time").first()
        inside = segment is not None and at <= segment.program_date_time + timedelta(seconds=segment.duration)
    if not inside:
        raise CorrectionError("no analysed segment of this stream covers that moment")
    return segment


def _frame_at(segment: MediaSegment, offset: float):
    from ai_processing.frames import frame_at

    return frame_at(segment.file.path, offset)


def _templates(brand: Brand) -> list:
    from ai_processing.analyzers.logo_corrections import reference_template

    found = (
        reference_template(brand.pk, brand.name, r.cache_key(), r.image_read()) for r in brand.reference_images.all()
    )
    return [template for template in found if template is not None]


def _best_candidate(brand: Brand, image) -> tuple[float, float, float, float]:
    """The box (normalised) of the brand's best silhouette match in the frame, at the
    corrections' lower bar: what the detector saw and did not accept."""
    from ai_processing.analyzers.logo_shapes import proposals, work_lab
    from ai_processing.analyzers.logo_verifier import CORRECTION_MIN_PROPOSAL

    lab, _ = work_lab(image)
    found = max(proposals(lab, _templates(brand), CORRECTION_MIN_PROPOSAL), key=lambda p: p.score, default=None)
    if found is None:
        raise CorrectionError(f"no candidate for {brand.name} in that frame: draw the box around the logo")
    height, width = lab.shape[:2]
    x, y, w, h = found.box
    return x / width, y / height, w / width, h / height


def _outlined(brand: Brand, crop) -> bool:
    from ai_processing.analyzers.logo_corrections import POSITIVE, crop_features

    return crop_features(crop, POSITIVE, _templates(brand)) is not None


def _awaited_add(segment_id: int, brand_id: int) -> None:
    """A segment still awaiting its recheck looks only for the brands its live pass skipped:
    a brand corrected meanwhile is added, so the recheck looks for it too."""
    trace = MediaSegment.objects.select_for_update().values_list("trace", flat=True).get(pk=segment_id) or {}
    awaited = trace.get(LOGOS_AWAITED)
    if isinstance(awaited, list) and brand_id not in awaited:
        trace[LOGOS_AWAITED] = sorted([*awaited, brand_id])
        MediaSegment.objects.filter(pk=segment_id).update(trace=trace)


def _recheck(segment_id: int) -> None:
    from ai_processing.dispatch import logos_recheck_dispatch

    logos_recheck_dispatch(segment_id)
