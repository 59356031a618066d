"""Faces, for people counts and blurring: an Ultralytics YOLO export whose classes include
faces, such as NudeNet's 320n (FACE_FEMALE, FACE_MALE). `fetch_models` installs it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pydantic import Field

from ai_processing.analyzers.base import Finding, Kind
from ai_processing.analyzers.plugins.objects import ObjectsAnalyzer

KEY = "faces"
FACE_CLASSES = {"FACE_FEMALE", "FACE_MALE", "face"}


class FacesAnalyzer(ObjectsAnalyzer):
    key = KEY
    optional = True  # not brand exposure: left out before logos, text and objects when analysis is behind
    kinds = (Kind("face", "Faces", "#facc15"),)
    weights = ("faces.onnx",)
    kind = "face"

    class Settings(ObjectsAnalyzer.Settings):
        confidence: float = Field(0.3, ge=0, le=1, description="a face's lowest score")

    def _detect(self, image: np.ndarray) -> list[Finding]:
        return [replace(found, label="face") for found in super()._detect(image) if found.label in FACE_CLASSES]
