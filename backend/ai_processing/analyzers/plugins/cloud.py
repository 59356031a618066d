"""Google Cloud Vision: LOGO_DETECTION and OBJECT_LOCALIZATION, one batched request per
chunk of frames. Opt-in: add `cloud` to ANALYZERS and give the process Google credentials
(GOOGLE_APPLICATION_CREDENTIALS, or workload identity on GKE). Each frame is billed by
Google, so it runs in batch mode only. Logos it names are linked to brands by name."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence

import cv2
import numpy as np
from pydantic import Field

from ai_processing.analyzers.base import (
    NO_CONTEXT,
    Analyzer,
    AnalyzerSettings,
    AnalyzerStatus,
    Box,
    Context,
    Finding,
    Frame,
)

logger = logging.getLogger(__name__)
KEY = "cloud"
MAX_IMAGES_PER_REQUEST = 16  # the API's limit for batch_annotate_images
TIMEOUT_S = 30.0
JPEG_QUALITY = 85


class CloudVisionAnalyzer(Analyzer):
    key = KEY
    kinds = ("logo", "object")  # declared by the logos and objects plug-ins
    realtime = False

    class Settings(AnalyzerSettings):
        timeout_s: float = Field(TIMEOUT_S, gt=0, le=600, description="seconds one Vision API request may take")

    settings: Settings

    def status(self) -> AnalyzerStatus:
        if importlib.util.find_spec("google.cloud.vision") is None:
            return AnalyzerStatus(self.key, "disabled", "needs `pip install google-cloud-vision`")
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            google.auth.default()
        except DefaultCredentialsError:
            return AnalyzerStatus(self.key, "disabled", "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS")
        return AnalyzerStatus(self.key, "ready")

    def load(self, client=None) -> None:
        from google.cloud import vision

        self.vision = vision
        self.client = client or vision.ImageAnnotatorClient()

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        found: list[list[Finding]] = []
        for start in range(0, len(frames), MAX_IMAGES_PER_REQUEST):
            batch = frames[start : start + MAX_IMAGES_PER_REQUEST]
            response = self.client.batch_annotate_images(
                requests=[self._request(f.image) for f in batch], timeout=self.settings.timeout_s
            )
            found.extend(_findings(answer, frame.image.shape) for answer, frame in zip(response.responses, batch))
        return found

    def _request(self, image: np.ndarray):
        ok, jpeg = cv2.imencode(
            ".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        feature = self.vision.Feature
        return self.vision.AnnotateImageRequest(
            image=self.vision.Image(content=jpeg.tobytes()),
            features=[
                feature(type_=feature.Type.LOGO_DETECTION, max_results=10),
                feature(type_=feature.Type.OBJECT_LOCALIZATION, max_results=20),
            ],
        )


def _findings(answer, shape) -> list[Finding]:
    """Logo boxes come in pixels, object boxes normalised: both become 0..1."""
    if answer.error.message:
        logger.warning("Cloud Vision refused a frame: %s", answer.error.message)
        return []
    height, width = shape[:2]
    logos = [
        Finding(
            "logo",
            logo.description,
            float(logo.score),
            _box([(v.x / width, v.y / height) for v in logo.bounding_poly.vertices]),
            {"source": "cloud"},
        )
        for logo in answer.logo_annotations
    ]
    objects = [
        Finding(
            "object",
            item.name,
            float(item.score),
            _box([(v.x, v.y) for v in item.bounding_poly.normalized_vertices]),
            {"source": "cloud"},
        )
        for item in answer.localized_object_annotations
    ]
    return logos + objects


def _box(points: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
