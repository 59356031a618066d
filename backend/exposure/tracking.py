"""Linking a brand's sightings across frames into appearances.

Each analysed segment re-derives the appearances around its time window from the stored
sightings (detections linked to a brand), so the result is the same whatever order the
segments finish in, and a re-analysed segment never counts twice. An appearance that grows
keeps its id and track id: live views and alert firings stay attached to it.

Live, segments mostly arrive in order, after every appearance near them: then the
appearances are resumed from their stored totals and only the newer sightings are read,
so an hour-long appearance costs the same per segment as a new one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from ai_processing.models import Detection
from exposure.models import GRID, BrandAppearance
from streaming.models import Stream

# Sightings further apart than this many sampling intervals start a new appearance: one
# missed frame (a gap of two intervals) never splits one.
GAP_INTERVALS = 2.5


@dataclass
class _Run:
    """An appearance being built from one brand's sightings, one per frame."""

    start: datetime
    end: datetime
    start_pts: float
    frames: int = 0
    area_sum: float = 0.0
    area_max: float = 0.0
    prominence: float = 0.0
    confidence_sum: float = 0.0
    confidence_max: float = 0.0
    heatmap: list[int] = field(default_factory=lambda: [0] * GRID * GRID)
    sources: dict[str, int] = field(default_factory=dict)

    @classmethod
    def resumed(cls, appearance: BrandAppearance) -> _Run:
        return cls(appearance.start_pdt, appearance.end_pdt, appearance.start_pts, appearance.frames,
                   appearance.area_sum, appearance.area_max, appearance.prominence, appearance.confidence_sum,
                   appearance.confidence_max, list(appearance.heatmap), dict(appearance.sources))  # fmt: skip

    def add(self, sighting: Detection, sources: set[str], interval_s: float) -> None:
        area = sighting.w * sighting.h
        cx, cy = sighting.x + sighting.w / 2, sighting.y + sighting.h / 2
        centrality = max(0.0, 1 - ((cx - 0.5) ** 2 + (cy - 0.5) ** 2) ** 0.5 / 0.5**0.5)
        self.end = sighting.pdt
        self.frames += 1
        self.area_sum += area
        self.area_max = max(self.area_max, area)
        self.prominence += area * centrality * interval_s
        self.confidence_sum += sighting.confidence
        self.confidence_max = max(self.confidence_max, sighting.confidence)
        self.heatmap[min(int(cy * GRID), GRID - 1) * GRID + min(int(cx * GRID), GRID - 1)] += 1
        for source in sources:
            self.sources[source] = self.sources.get(source, 0) + 1


def appearances_update(
    *, stream: Stream, since: datetime, until: datetime, interval_s: float, thumbnails: dict[int, bytes] | None = None
) -> list[BrandAppearance]:
    """Re-derives the stream's appearances that touch [since, until] and returns them.
    `thumbnails` (JPEG per brand id, from this window) becomes the evidence of a new one."""
    gap = timedelta(seconds=interval_s * GAP_INTERVALS)
    with transaction.atomic():
        Stream.objects.select_for_update().filter(pk=stream.pk).first()  # one update per stream at a time
        nearby = list(
            BrandAppearance.objects.filter(stream=stream, start_pdt__lte=until + gap, end_pdt__gte=since - gap)
        )
        if nearby and all(appearance.end_pdt < since for appearance in nearby):  # in order: resume them
            old, runs = nearby, _runs(stream, min(a.end_pdt for a in nearby), until, gap, interval_s, nearby)
        else:
            old, low, high = _touching(stream, since, until, gap)
            runs = _runs(stream, low, high, gap, interval_s)
        return _replace(stream, old, runs, interval_s, thumbnails or {})


def _touching(stream: Stream, since: datetime, until: datetime, gap: timedelta):
    """The appearances within a gap of the window, widening the window to cover them
    whole until no other appearance (of any brand) reaches into it."""
    low, high = since, until
    old: list[BrandAppearance] = []
    appearances = BrandAppearance.objects.filter(stream=stream)
    while True:
        touching = list(appearances.filter(start_pdt__lte=high + gap, end_pdt__gte=low - gap))
        if len(touching) == len(old):
            return old, low, high
        old = touching
        low = min([low, *(a.start_pdt for a in old)])
        high = max([high, *(a.end_pdt for a in old)])


def _runs(
    stream: Stream,
    low: datetime,
    high: datetime,
    gap: timedelta,
    interval_s: float,
    resumed: Sequence[BrandAppearance] = (),
):
    """Runs of each brand's sightings in [low, high], continuing the `resumed` appearances,
    whose own sightings (up to their end) are already in their totals."""
    sightings = Detection.objects.filter(stream=stream, brand__isnull=False, pdt__gte=low, pdt__lte=high)
    per_frame: dict[tuple[int, int], list[Detection]] = defaultdict(list)
    for sighting in sightings.order_by("pdt", "id"):
        per_frame[(sighting.brand_id, sighting.frame_id)].append(sighting)
    runs: dict[int, list[_Run]] = defaultdict(list)
    for appearance in sorted(resumed, key=lambda a: a.start_pdt):
        runs[appearance.brand_id].append(_Run.resumed(appearance))
    for (brand_id, _), seen in per_frame.items():  # in time order, per brand
        largest = max(seen, key=lambda s: s.w * s.h)  # the same brand twice in a frame counts once
        if runs[brand_id] and largest.pdt <= runs[brand_id][-1].end:
            continue  # counted in a resumed appearance
        sources = {s.extra.get("source", s.analyzer) for s in seen}
        brand_runs = runs[brand_id]
        if not brand_runs or largest.pdt - brand_runs[-1].end > gap:
            brand_runs.append(_Run(largest.pdt, largest.pdt, largest.pts))
        brand_runs[-1].add(largest, sources, interval_s)
    return runs


def _replace(stream, old: list[BrandAppearance], runs: dict[int, list[_Run]], interval_s, thumbnails):
    unclaimed = {a.pk: a for a in old}
    next_track = (BrandAppearance.objects.filter(stream=stream).aggregate(top=Max("track_id"))["top"] or 0) + 1
    kept = []
    for brand_id, brand_runs in runs.items():
        for run in brand_runs:
            appearance = _claim(unclaimed, brand_id, run)
            if appearance is None:
                appearance = BrandAppearance(stream=stream, brand_id=brand_id, track_id=next_track)
                next_track += 1
            _fill(appearance, run, interval_s)
            if not appearance.thumbnail and brand_id in thumbnails:
                appearance.thumbnail.save(
                    f"{stream.pk}-{appearance.track_id}.jpg", ContentFile(thumbnails[brand_id]), save=False
                )
            appearance.save()
            kept.append(appearance)
    BrandAppearance.objects.filter(pk__in=unclaimed).delete()  # merged into others, or gone on re-analysis
    return kept


def _claim(unclaimed: dict[int, BrandAppearance], brand_id: int, run: _Run) -> BrandAppearance | None:
    """The earliest old appearance of the brand that the run covers: it keeps its ids."""
    for pk, appearance in sorted(unclaimed.items(), key=lambda item: item[1].start_pdt):
        if appearance.brand_id == brand_id and appearance.start_pdt <= run.end and appearance.end_pdt >= run.start:
            return unclaimed.pop(pk)
    return None


def _fill(appearance: BrandAppearance, run: _Run, interval_s: float) -> None:
    appearance.start_pdt, appearance.end_pdt, appearance.start_pts = run.start, run.end, run.start_pts
    appearance.interval_s = interval_s
    for name in (
        "frames",
        "area_sum",
        "area_max",
        "prominence",
        "confidence_sum",
        "confidence_max",
        "heatmap",
        "sources",
    ):
        setattr(appearance, name, getattr(run, name))
