"""A logo the verifier doubts counts when the stream's frame before showed the same brand
close by (`Context.logos_before`): within a job frame to frame, and across segments from
the stored findings of the frame before the segment."""

from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ai_processing.analyzers.base import Box, Frame, SeenLogo
from ai_processing.analyzers.plugins.logos import DOUBTED_MIN_PROBABILITY, MIN_PROBABILITY
from ai_processing.models import Detection, FrameAnalysis
from ai_processing.services import brand_create, brand_reference_image_add, brand_verifier_build
from ai_processing.tests.logo_scenes import icon_png, photo, scene
from ai_processing.tests.test_logos import logos, references  # noqa: F401  (a fixture, and its context)


def doubted_cocacola():
    """A Coca-Cola script whose silhouette scores 0.76 and whose verifier says 0.66: under
    the 0.8 bar of a logo seen once."""
    rng = np.random.default_rng(0)
    return scene(rng, "cocacola", width=int(rng.uniform(120, 240)), max_angle=20)


def labels(found):
    return [[f.label for f in findings] for findings in found]


def test_a_doubted_logo_counts_from_the_second_frame_that_shows_it(logos):  # noqa: F811
    shown = doubted_cocacola()

    found = logos.analyze([Frame(t, shown.image) for t in (0.0, 0.5, 1.0)], references("cocacola"))

    assert labels(found) == [[], ["cocacola"], ["cocacola"]]
    for finding in found[1] + found[2]:
        assert finding.extra["why"]["confirmed_by"] == "frame before"
        assert DOUBTED_MIN_PROBABILITY <= finding.confidence < MIN_PROBABILITY


def test_a_small_logo_needs_a_surer_verifier_to_be_confirmed():
    from ai_processing.analyzers.plugins.logos import SMALL_DOUBTED_MIN_PROBABILITY, SMALL_LOGO_PX, _confirmed

    def box(side_px):  # at (100, 100) in a 1280 x 720 frame
        return Box(100 / 1280, 100 / 720, side_px / 1280, side_px / 720)

    def confirmed(probability, side_px):
        before = [SeenLogo(7, 0.0, box(side_px))]
        return _confirmed(probability, box(side_px), 7, before, 1280, 720)

    small, large = SMALL_LOGO_PX - 10, SMALL_LOGO_PX + 10
    assert confirmed(DOUBTED_MIN_PROBABILITY, large) and not confirmed(DOUBTED_MIN_PROBABILITY, small)
    assert confirmed(SMALL_DOUBTED_MIN_PROBABILITY, small)


def test_a_finding_that_holds_a_surer_one_is_its_card_not_a_logo():
    from ai_processing.analyzers.logo_shapes import suppressed
    from ai_processing.analyzers.plugins.logos import HOLDS_SURER

    surer, card, beside = (40, 40, 20, 20), (30, 30, 60, 60), (100, 30, 60, 60)  # x, y, w, h
    assert suppressed([surer, card, beside], lambda box: box, holds=HOLDS_SURER) == [surer, beside]
    assert suppressed([surer, card], lambda box: box) == [surer, card]  # the default keeps both


def test_a_frame_over_a_second_before_or_a_logo_elsewhere_confirms_nothing(logos):  # noqa: F811
    shown = doubted_cocacola()
    height, width = shown.image.shape[:2]
    x, y, w, h = shown.box
    there = Box(x / width, y / height, w / width, h / height)
    elsewhere = Box(min(there.x + 3 * there.w, 1 - there.w), there.y, there.w, there.h)

    def seen_before(pts, box):
        context = references("cocacola")
        context.logos_before[:] = [SeenLogo(0, pts, box)]  # brand 0: references() numbers them
        return labels(logos.analyze([Frame(10.0, shown.image)], context))

    assert seen_before(9.5, there) == [["cocacola"]]  # as the job passes the stored findings
    assert seen_before(8.5, there) == [[]]
    assert seen_before(9.5, elsewhere) == [[]]
    assert seen_before(10.0, there) == [[]]  # not before: the same frame analysed again


@pytest.mark.parametrize("name", ["chelsea", "hubble_deep_field", "camera", "coffee"])
def test_natural_regions_are_not_confirmed_by_showing_them_again(logos, name):  # noqa: F811
    """A cat's pupils, stars and a dark coat stay where they are from frame to frame: a
    chance match the verifier doubts must not confirm itself."""
    frames = [Frame(t, photo(name)) for t in (0.0, 0.5, 1.0, 1.5)]

    assert labels(logos.analyze(frames, references("nike", "apple", "adidas", "x", "cocacola"))) == [[]] * 4


@pytest.mark.django_db
def test_a_segments_first_frame_is_confirmed_by_the_stored_frame_before_it(settings, tmp_path, stream, user):
    from ai_processing.pipeline import segment_analyze
    from ai_processing.tests.test_pipeline import make_segment, segment_with_frames

    settings.MEDIA_ROOT = tmp_path
    brand = brand_create(owner=user, name="Coca-Cola")
    brand_reference_image_add(brand=brand, image=SimpleUploadedFile("c.png", icon_png("cocacola"), "image/png"))
    brand_verifier_build(brand_id=brand.pk)  # what the upload queues after commit
    stream.enabled_analyzers = ["logos"]
    stream.save()
    image = doubted_cocacola().image
    first = make_segment(stream, segment_with_frames(tmp_path, [image] * 30, name="0.ts"), seq=0)
    second = make_segment(stream, segment_with_frames(tmp_path, [image] * 30, name="1.ts"), seq=1)
    second.program_date_time = first.program_date_time + timedelta(seconds=2)
    second.save()

    assert segment_analyze(first.pk) == "done" and segment_analyze(second.pk) == "done"

    analysed = sorted(FrameAnalysis.objects.filter(stream=stream).values_list("pts", flat=True))
    found = sorted(Detection.objects.filter(stream=stream, brand=brand).values_list("pts", flat=True))
    assert len(analysed) == 8 and analysed[4] == second.start_pts
    assert found == analysed[1:]  # the first had no frame before it; the second segment's first had one
