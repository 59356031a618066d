"""Corrections of the logos found: a negative ("not this brand") drops a proposal like it,
a positive ("missed here") accepts one, at once (before the verifier is rebuilt), and the
next verifier build learns from them."""

import os

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ai_processing.analyzers.base import Context, CorrectedLogo, Frame, LogoReference, StoredVerifier
from ai_processing.analyzers.logo_corrections import NEGATIVE, POSITIVE, Crop, crop_at, crop_png
from ai_processing.analyzers.logo_shapes import proposals, work_lab
from ai_processing.analyzers.logo_verifier import MIN_PROPOSAL, features
from ai_processing.analyzers.plugins.logos import MIN_PROBABILITY, LogosAnalyzer, brand_verifier_build
from ai_processing.tests.logo_scenes import icon_png, icons_available, scene

pytestmark = pytest.mark.skipif(
    not icons_available() and not os.environ.get("CI"), reason="needs frontend/node_modules/simple-icons (npm ci)"
)


def missed_cocacola():
    """A Coca-Cola script whose verifier says 0.23, under the 0.8 bar and the 0.6 of a logo the
    frame before confirms: missed, even shown in every frame."""
    rng = np.random.default_rng(13)
    return scene(rng, "cocacola", width=int(rng.uniform(120, 240)), max_angle=20)


def spotify(seed):
    return scene(np.random.default_rng(seed), "spotify", width=160, max_angle=20)


def normalised(shown):
    height, width = shown.image.shape[:2]
    x, y, w, h = shown.box
    return x / width, y / height, w / width, h / height


def corrected(kind, crop, brand_id=1, number=1):
    data = crop_png(crop)
    return CorrectedLogo(brand_id, kind, f"fix-{kind}-{number}", lambda: data, crop.box)


@pytest.fixture(scope="module")
def logos():
    analyzer = LogosAnalyzer(models_dir=None)
    analyzer.load()
    return analyzer


def stored_context(slug, *fixes, brand_id=1):
    """A job's context with the brand's verifier as stored before the corrections were made."""
    references = (LogoReference(brand_id, slug, f"fix-test-{slug}", lambda: icon_png(slug)),)
    stored = brand_verifier_build(references)
    data = stored.verifier.to_bytes()
    return Context(
        logos=references,
        verifiers=(StoredVerifier(brand_id, stored.key, lambda: data),),
        logo_corrections=fixes,
        complete=True,
    )


def test_a_missed_logo_is_found_once_marked_missed_here(logos):
    shown = missed_cocacola()
    frame = Frame(0.0, shown.image)
    assert logos.analyze([frame], stored_context("cocacola")) == [[]]

    fix = corrected(POSITIVE, crop_at(shown.image, normalised(shown)))
    [findings] = logos.analyze([frame], stored_context("cocacola", fix))

    assert [f.label for f in findings] == ["cocacola"]
    assert findings[0].confidence >= MIN_PROBABILITY
    assert findings[0].extra["why"]["correction"]["kind"] == "positive"


def test_not_this_brand_drops_that_logo_and_no_other(logos):
    rejected, other = spotify(9), spotify(4)
    frames = [Frame(0.0, rejected.image), Frame(0.0, other.image)]
    assert [[f.label for f in found] for found in logos.analyze(frames, stored_context("spotify"))] == [["spotify"]] * 2

    fix = corrected(NEGATIVE, crop_at(rejected.image, normalised(rejected)))
    found = logos.analyze(frames, stored_context("spotify", fix))

    assert found[0] == []
    assert [f.label for f in found[1]] == ["spotify"]  # the same logo elsewhere is not like this region


def test_a_correction_of_another_brand_changes_nothing(logos):
    shown = spotify(9)
    fix = corrected(NEGATIVE, crop_at(shown.image, normalised(shown)), brand_id=2)

    [findings] = logos.analyze([Frame(0.0, shown.image)], stored_context("spotify", fix))

    assert [f.label for f in findings] == ["spotify"]


def test_the_verifier_key_names_the_corrections():
    references = (LogoReference(1, "spotify", "fix-key-spotify", lambda: icon_png("spotify")),)
    shown = spotify(9)
    fix = corrected(NEGATIVE, crop_at(shown.image, normalised(shown)))

    plain, with_fix = brand_verifier_build(references), brand_verifier_build(references, [fix])

    assert plain.key != with_fix.key and plain.key in with_fix.key


def test_the_rebuilt_verifier_learns_a_negative(logos):
    """Without the correction's similarity rule: the verifier alone now rejects the region."""
    shown = spotify(9)
    crop = crop_at(shown.image, normalised(shown))
    references = (LogoReference(1, "spotify", "fix-rebuild-spotify", lambda: icon_png("spotify")),)
    before = brand_verifier_build(references).verifier
    after = brand_verifier_build(references, [corrected(NEGATIVE, crop)]).verifier

    lab, _ = work_lab(crop.image)
    template = logos._template(references[0])[0]
    [proposal] = [
        p
        for p in proposals(lab, [template], MIN_PROPOSAL)
        if p.score == max(q.score for q in proposals(lab, [template], MIN_PROPOSAL))
    ]
    vector = features(lab, proposal)

    assert before.probabilities(vector) >= MIN_PROBABILITY > after.probabilities(vector)


def test_a_rebuild_for_a_correction_reuses_the_references_training_rows(monkeypatch):
    """The views and mined negatives do not depend on the corrections: a rebuild computes
    only the correction's rows (and fits again), so it takes a fraction of a second."""
    from ai_processing.analyzers import logo_verifier

    computed = []
    build = logo_verifier._training_build
    monkeypatch.setattr(logo_verifier, "_training_build", lambda *args: computed.append(args) or build(*args))
    shown = spotify(9)
    references = (LogoReference(1, "spotify", "fix-rows-spotify", lambda: icon_png("spotify")),)
    plain = brand_verifier_build(references).verifier
    fixed = brand_verifier_build(references, [corrected(NEGATIVE, crop_at(shown.image, normalised(shown)))]).verifier

    assert len(computed) == 1
    assert not np.array_equal(plain.weights, fixed.weights) and fixed.seconds < plain.seconds


def test_a_crop_keeps_a_margin_around_the_box_at_working_scale():
    image = np.zeros((1080, 1920, 3), np.uint8)

    crop = crop_at(image, (0.25, 0.5, 0.1, 0.1))  # 192 x 108 px: 96 x 54 at 540 lines

    assert isinstance(crop, Crop) and crop.box == (29, 29, 96, 54)  # 0.3 x 96 = 29 px each side
    assert crop.image.shape[:2] == (54 + 2 * 29, 96 + 2 * 29)


@pytest.mark.django_db(transaction=True)  # the rebuild and the recheck run in a pool thread or a Celery worker
def test_missed_here_finds_the_logo_in_that_segment_and_its_exposure(
    settings, tmp_path, stream, user, analysis_workers
):
    from ai_processing.models import Brand, Detection, LogoCorrection
    from ai_processing.pipeline import segment_analyze
    from ai_processing.services import brand_create, brand_reference_image_add, logo_missed
    from ai_processing.tests.test_pipeline import make_segment, segment_with_frames
    from exposure.models import BrandAppearance
    from media_analyzer.tests.waits import until

    settings.MEDIA_ROOT = tmp_path
    brand = brand_create(owner=user, name="Coca-Cola")
    brand_reference_image_add(brand=brand, image=SimpleUploadedFile("c.png", icon_png("cocacola"), "image/png"))
    assert until(lambda: Brand.objects.get(pk=brand.pk).verifier_state == "ready", 120, interval_s=0.2)
    stream.enabled_analyzers = ["logos"]
    stream.save()
    segment = make_segment(stream, segment_with_frames(tmp_path, [missed_cocacola().image] * 30))
    assert segment_analyze(segment.pk) == "done"
    sightings = Detection.objects.filter(frame__segment=segment, brand=brand)
    assert not sightings.exists()  # the detector misses it

    correction = logo_missed(stream=stream, brand=brand, pts=segment.start_pts + 1.0)  # no box: its best candidate

    assert correction.kind == "positive" and correction.image and LogoCorrection.objects.count() == 1
    assert until(sightings.exists, 120, interval_s=0.2), "the segment was not checked again"
    # Its silhouette is under the proposal bar: only its likeness to the positive finds it.
    assert {s.extra["why"]["correction"]["kind"] for s in sightings} == {"positive"}
    assert until(BrandAppearance.objects.filter(stream=stream, brand=brand).exists, 30, interval_s=0.2)
    assert until(lambda: Brand.objects.get(pk=brand.pk).verifier_state == "ready", 120, interval_s=0.2)
    assert correction.cache_key() in Brand.objects.get(pk=brand.pk).verifier_key  # rebuilt with it


@pytest.mark.django_db
def test_missed_here_where_nothing_was_analysed_or_nothing_is_outlined(settings, tmp_path, stream, user):
    from ai_processing.services import CorrectionError, brand_create, brand_reference_image_add, logo_missed
    from ai_processing.tests.logo_scenes import photo
    from ai_processing.tests.test_pipeline import make_segment, segment_with_frames

    settings.MEDIA_ROOT = tmp_path
    brand = brand_create(owner=user, name="Coca-Cola")
    brand_reference_image_add(brand=brand, image=SimpleUploadedFile("c.png", icon_png("cocacola"), "image/png"))
    segment = make_segment(stream, segment_with_frames(tmp_path, [photo("coffee")] * 15))
    segment.state = "done"
    segment.save()

    with pytest.raises(CorrectionError, match="no analysed segment"):
        logo_missed(stream=stream, brand=brand, pts=segment.start_pts + 60)
    with pytest.raises(CorrectionError, match="draw the box"):
        logo_missed(stream=stream, brand=brand, pts=segment.start_pts + 0.5, box=(0.1, 0.1, 0.2, 0.2))


@pytest.mark.django_db
def test_a_brand_corrected_while_its_segment_awaits_a_recheck_is_looked_for_by_it(tmp_path, stream):
    """The recheck of a segment awaiting verifiers looks only for the brands its live pass
    skipped: "missed here" on another brand adds it, or its positive would go unused there."""
    from ai_processing.services import LOGOS_AWAITED, _awaited_add
    from ai_processing.tests.test_pipeline import make_segment

    awaiting = make_segment(stream, "segments/a.ts")
    awaiting.trace = {"total": 1.0, LOGOS_AWAITED: [7]}
    awaiting.save()
    _awaited_add(awaiting.pk, 3)
    _awaited_add(awaiting.pk, 3)
    awaiting.refresh_from_db()
    assert awaiting.trace == {"total": 1.0, LOGOS_AWAITED: [3, 7]}

    done = make_segment(stream, "segments/b.ts", seq=1)  # awaits nothing: rechecked for every brand
    _awaited_add(done.pk, 3)
    done.refresh_from_db()
    assert LOGOS_AWAITED not in (done.trace or {})
