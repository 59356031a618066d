"""On-screen text: PP-OCR (detection + recognition ONNX models that ship inside
rapidocr-onnxruntime). Heavy: batch mode runs it; brand names are matched afterwards."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

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
    Kind,
)

KEY = "text"
MIN_CONFIDENCE = 0.6


class TextAnalyzer(Analyzer):
    key = KEY
    kinds = (
        Kind("text", "Text", "#a3e635"),
        # A brand named in the text: added after the analyzers by `brand_matching`, under this analyzer.
        Kind("brand", "Brands", "#fb923c"),
    )
    realtime = False

    class Settings(AnalyzerSettings):
        min_confidence: float = Field(MIN_CONFIDENCE, ge=0, le=1, description="a line of text's lowest score")

    settings: Settings

    def status(self) -> AnalyzerStatus:
        if importlib.util.find_spec("rapidocr_onnxruntime") is None:
            return AnalyzerStatus(self.key, "disabled", "needs `pip install --no-deps rapidocr-onnxruntime`")
        return AnalyzerStatus(self.key, "ready")

    def load(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR()

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        return [self._read(frame.image) for frame in frames]

    def _read(self, image: np.ndarray) -> list[Finding]:
        result, _ = self.engine(image)
        height, width = image.shape[:2]
        findings = []
        for corners, text, score in result or []:
            if float(score) < self.settings.min_confidence or not text.strip():
                continue
            xs, ys = [point[0] for point in corners], [point[1] for point in corners]
            box = Box(min(xs) / width, min(ys) / height, (max(xs) - min(xs)) / width, (max(ys) - min(ys)) / height)
            findings.append(Finding("text", text.strip(), float(score), box))
        return findings
