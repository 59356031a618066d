"""Sightings linked into appearances: gaps, missed frames, order and re-runs."""

from datetime import UTC, datetime, timedelta

import pytest

from ai_processing.models import Detection, FrameAnalysis
from ai_processing.services import brand_create
from exposure.models import BrandAppearance
from exposure.selectors import exposure_summary
from exposure.tracking import appearances_update
from streaming.models import MediaSegment

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
INTERVAL = 0.5


def sight(stream, brand, seconds: list[float], box=(0.1, 0.1, 0.2, 0.1), source="logo"):
    segment, _ = MediaSegment.objects.get_or_create(
        stream=stream,
        seq=0,
        defaults={"file": "x.ts", "duration": 2, "start_pts": 0, "bytes": 1, "program_date_time": START},
    )
    for second in seconds:
        pdt = START + timedelta(seconds=second)
        frame, _ = FrameAnalysis.objects.get_or_create(
            segment=segment, pts=second, defaults={"stream": stream, "pdt": pdt}
        )
        Detection.objects.create(frame=frame, stream=stream, pdt=pdt, pts=second, analyzer="logos", kind="logo",
                                 label=brand.name, confidence=0.9, x=box[0], y=box[1], w=box[2], h=box[3],
                                 brand=brand, extra={"source": source})  # fmt: skip


def update(stream, since, until):
    return appearances_update(
        stream=stream,
        since=START + timedelta(seconds=since),
        until=START + timedelta(seconds=until),
        interval_s=INTERVAL,
    )


def test_one_missed_frame_does_not_split_an_appearance_but_a_longer_gap_does(stream, user):
    brand = brand_create(owner=user, name="Acme")
    sight(stream, brand, [0, 0.5, 1.0, 2.0, 2.5])  # 1.5 missed: one frame
    sight(stream, brand, [4.5, 5.0])  # 2.0 s after 2.5: a new appearance

    update(stream, 0, 6)

    spans = [(a.track_id, a.frames, a.duration_s) for a in BrandAppearance.objects.order_by("start_pdt")]
    assert spans == [(1, 5, 3.0), (2, 2, 1.0)]


def test_segments_in_any_order_and_re_runs_give_the_same_appearances(stream, user):
    brand = brand_create(owner=user, name="Acme")
    sight(stream, brand, [2.0, 2.5, 3.0, 3.5])
    update(stream, 2, 4)  # the later segment finishes first
    sight(stream, brand, [0.0, 0.5, 1.0, 1.5])
    update(stream, 0, 2)
    update(stream, 0, 2)  # a re-run of the same segment
    update(stream, 2, 4)

    [appearance] = BrandAppearance.objects.all()
    assert (appearance.track_id, appearance.frames, appearance.duration_s) == (1, 8, 4.0)


def test_the_summary_clips_to_a_range_and_breaks_down_by_source(stream, user):
    brand = brand_create(owner=user, name="Acme")
    sight(stream, brand, [0.0, 0.5, 1.0, 1.5], box=(0.0, 0.0, 0.2, 0.2))  # top-left cell
    sight(stream, brand, [1.5], box=(0.0, 0.0, 0.1, 0.1), source="ocr")  # the same frame, another source
    update(stream, 0, 2)

    whole = exposure_summary(stream=stream, since=START, until=START + timedelta(seconds=4))["brands"][0]
    half = exposure_summary(stream=stream, since=START, until=START + timedelta(seconds=1))["brands"][0]

    assert whole["screen_time_s"] == 2.0 and whole["appearances"] == 1
    assert whole["share_of_screen_mean"] == pytest.approx(0.04)  # the largest box of a frame counts
    assert whole["share_of_screen_time_weighted"] == pytest.approx(0.04 * 2 / 4)
    assert whole["heatmap"]["cells"][0] == 1.0
    assert whole["screen_time_by_source_s"] == {"logo": 2.0, "ocr": 0.5}
    assert half["screen_time_s"] == pytest.approx(1.0)


def test_widening_the_window_for_one_brand_never_duplicates_another(stream, user):
    long_one, short_one = brand_create(owner=user, name="Long"), brand_create(owner=user, name="Short")
    sight(stream, long_one, [x / 2 for x in range(0, 13)])  # 0 to 6 s
    sight(stream, short_one, [2.0, 2.5, 3.0])
    for since in range(0, 8, 2):
        update(stream, since, since + 2)

    assert sorted(BrandAppearance.objects.values_list("brand__name", "frames")) == [("Long", 13), ("Short", 3)]


def test_in_order_segments_resume_appearances_and_match_a_full_re_derivation(stream, user, monkeypatch):
    import exposure.tracking as tracking

    acme, other = brand_create(owner=user, name="Acme"), brand_create(owner=user, name="Other")
    full_derivations = []
    touching = tracking._touching
    monkeypatch.setattr(tracking, "_touching", lambda *args: full_derivations.append(args) or touching(*args))
    for start in range(0, 20, 2):  # ten 2 s segments, stored in order as a live stream's are
        boxes = [(0.05 * (start % 5), 0.1, 0.1 + 0.01 * start, 0.1), (0.6, 0.6, 0.2, 0.3)]
        for index, second in enumerate([start, start + 0.5, start + 1.0, start + 1.5]):
            sight(stream, acme, [second], box=boxes[index % 2], source=("logo", "ocr")[index % 2])
        if 6 <= start < 12:
            sight(stream, other, [start + 0.5 * i for i in range(4)])
        update(stream, start, start + 2)
    live = {a.pk: _totals(a) for a in BrandAppearance.objects.all()}

    assert len(full_derivations) == 1  # only the first segment: it had nothing to resume
    update(stream, 0, 20)  # overlaps everything: re-derived from the sightings
    assert {a.pk: _totals(a) for a in BrandAppearance.objects.all()} == live
    assert sorted(frames for frames, *_ in live.values()) == [12, 40]


def _totals(appearance):
    return (appearance.frames, appearance.start_pdt, appearance.end_pdt, round(appearance.area_sum, 9),
            appearance.area_max, round(appearance.prominence, 9), round(appearance.confidence_sum, 9),
            appearance.heatmap, appearance.sources, appearance.track_id)  # fmt: skip
