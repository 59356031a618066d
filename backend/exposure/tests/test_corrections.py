""" "Not this brand" on an appearance: its logo is stored as a negative of the brand, the
appearance leaves the totals at once (live too), and the same logo is not found again."""

import os

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ai_processing.analyzers.base import Frame
from ai_processing.analyzers.loaded import analyzer_get
from ai_processing.models import Detection, LogoCorrection
from ai_processing.pipeline import _context, segment_analyze, segment_logos_recheck
from ai_processing.services import brand_create, brand_reference_image_add, brand_verifier_build
from ai_processing.tests.logo_scenes import icon_png, icons_available, scene
from ai_processing.tests.test_pipeline import make_segment, segment_with_frames
from exposure import services
from exposure.models import BrandAppearance
from exposure.selectors import exposure_summary

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not icons_available() and not os.environ.get("CI"), reason="needs npm simple-icons"),
]


@pytest.fixture
def spotify_on_screen(settings, tmp_path, stream, user):
    """A segment showing Spotify's logo, analysed: one appearance of the brand."""
    settings.MEDIA_ROOT = tmp_path
    brand = brand_create(owner=user, name="Spotify")
    brand_reference_image_add(brand=brand, image=SimpleUploadedFile("s.png", icon_png("spotify"), "image/png"))
    brand_verifier_build(brand_id=brand.pk)  # what the upload queues after commit
    shown = scene(np.random.default_rng(9), "spotify", width=160)
    stream.enabled_analyzers = ["logos"]
    stream.save()
    segment = make_segment(stream, segment_with_frames(tmp_path, [shown.image] * 30))
    assert segment_analyze(segment.pk) == "done"
    return brand, shown, segment


def test_not_this_brand_removes_the_appearance_and_the_logo_is_not_found_again(
    stream, spotify_on_screen, django_capture_on_commit_callbacks
):
    brand, shown, segment = spotify_on_screen
    appearance = BrandAppearance.objects.get(stream=stream, brand=brand)
    logos = analyzer_get("logos")
    found = logos.analyze([Frame(0.0, shown.image)], _context(stream, [brand], complete=True))
    assert [f.label for f in found[0]] == ["Spotify"]

    with django_capture_on_commit_callbacks(execute=False):  # the verifier rebuild is not run: used at once
        stored = services.appearance_reject(appearance=appearance)

    assert stored >= 1 and LogoCorrection.objects.filter(brand=brand, kind="negative").count() == stored
    assert not BrandAppearance.objects.filter(stream=stream, brand=brand).exists()
    assert exposure_summary(stream=stream)["brands"] == []
    assert not Detection.objects.filter(stream=stream, brand=brand).exists()
    # The same image, analysed again with a job's context: nothing of the brand.
    assert logos.analyze([Frame(0.0, shown.image)], _context(stream, [brand], complete=True)) == [[]]
    segment_logos_recheck(segment.pk)
    assert not Detection.objects.filter(stream=stream, brand=brand).exists()
    assert not BrandAppearance.objects.filter(stream=stream, brand=brand).exists()


def test_the_live_totals_are_sent_without_the_rejected_brand(
    stream, spotify_on_screen, monkeypatch, django_capture_on_commit_callbacks
):
    brand, _, _ = spotify_on_screen
    sent = []
    monkeypatch.setattr(services, "broadcast", lambda stream_id, message: sent.append((stream_id, message)))
    monkeypatch.setattr(services, "brand_verifier_request", lambda brand: None)  # no rebuild in this test

    with django_capture_on_commit_callbacks(execute=True):
        services.appearance_reject(appearance=BrandAppearance.objects.get(stream=stream, brand=brand))

    assert sent == [(stream.pk, {"type": "brand.exposure", "stream_id": str(stream.pk), "brands": []})]


def test_a_rejected_appearance_whose_video_expired_still_leaves_the_totals(stream, spotify_on_screen):
    brand, _, segment = spotify_on_screen
    os.remove(segment.file.path)

    stored = services.appearance_reject(appearance=BrandAppearance.objects.get(stream=stream, brand=brand))

    assert stored == 0 and not LogoCorrection.objects.exists()
    assert exposure_summary(stream=stream)["brands"] == []
