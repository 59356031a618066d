"""Google Cloud Vision, on responses in the API's own JSON: requests are built as the API
expects, boxes in pixels and in fractions both come out normalised, named logos are linked
to brands, a refused frame is skipped. (No network here: the responses were written in the
API's documented format, not captured live.)"""

from pathlib import Path

import numpy as np
import pytest
from google.cloud import vision

from ai_processing.analyzers.base import Frame
from ai_processing.analyzers.plugins.cloud import CloudVisionAnalyzer
from ai_processing.brand_matching import BrandMatcher
from ai_processing.services import brand_create

RECORDED = (Path(__file__).parent / "recorded" / "vision_annotate.json").read_text()


class RecordedClient:
    """Answers batch_annotate_images with the recorded response, and keeps the requests."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[vision.AnnotateImageRequest] = []

    def batch_annotate_images(self, requests, timeout):
        self.requests.extend(requests)
        return vision.BatchAnnotateImagesResponse(
            responses=[vision.AnnotateImageResponse.from_json(self.answers.pop(0)) for _ in requests]
        )


def cloud_with(*answers: str) -> tuple[CloudVisionAnalyzer, RecordedClient]:
    analyzer = CloudVisionAnalyzer(models_dir=None)  # type: ignore[arg-type]
    client = RecordedClient(*answers)
    analyzer.load(client=client)
    return analyzer, client


def test_logos_and_objects_come_back_normalised(user):
    analyzer, client = cloud_with(RECORDED)
    frame = Frame(0.0, np.zeros((720, 1280, 3), np.uint8))

    [found] = analyzer.analyze([frame])

    logo, person = found
    assert (logo.kind, logo.label, logo.confidence) == ("logo", "Spotify", pytest.approx(0.91))
    assert (logo.box.x, logo.box.y, logo.box.w) == (
        pytest.approx(200 / 1280),
        pytest.approx(150 / 720),
        pytest.approx(160 / 1280),
    )
    assert (person.kind, person.label, person.box.x, person.box.h) == (
        "object",
        "Person",
        pytest.approx(0.55),
        pytest.approx(0.85),
    )
    [request] = client.requests
    assert {f.type_ for f in request.features} == {
        vision.Feature.Type.LOGO_DETECTION,
        vision.Feature.Type.OBJECT_LOCALIZATION,
    }
    assert request.image.content[:2] == b"\xff\xd8"  # a JPEG


def test_a_refused_frame_gives_nothing_and_the_others_stand():
    refused = '{"error": {"code": 3, "message": "Bad image data."}}'
    analyzer, _ = cloud_with(refused, RECORDED)

    found = analyzer.analyze([Frame(0.0, np.zeros((72, 128, 3), np.uint8))] * 2)

    assert found[0] == [] and len(found[1]) == 2


@pytest.mark.django_db
def test_a_named_logo_is_linked_to_the_brand_of_that_name(user):
    brand = brand_create(owner=user, name="spotify")
    analyzer, _ = cloud_with(RECORDED)
    [found] = analyzer.analyze([Frame(0.0, np.zeros((720, 1280, 3), np.uint8))])

    linked = BrandMatcher([brand]).link([("cloud", f) for f in found])

    assert [(f.label, f.extra.get("brand_id")) for _, f in linked] == [("Spotify", brand.pk), ("Person", None)]
