"""Objects: YOLO in the standard Ultralytics ONNX export format (YOLOv8 / YOLO11).

The export's output is 1 x (4 + classes) x anchors, boxes as centre x, y, width, height in
input pixels; class names and input size come from the model's own metadata."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import numpy as np
from PIL import Image
from pydantic import Field

from ai_processing.analyzers.base import NO_CONTEXT, Analyzer, AnalyzerSettings, Box, Context, Finding, Frame, Kind
from ai_processing.analyzers.onnx import onnx_session

KEY = "objects"
LETTERBOX_FILL = 114


class ObjectsAnalyzer(Analyzer):
    key = KEY
    kinds = (Kind("object", "Objects", "#22d3ee"),)
    weights = ("yolo11n.onnx",)
    kind = "object"

    class Settings(AnalyzerSettings):
        confidence: float = Field(0.25, ge=0, le=1, description="a detection's lowest class score")
        iou: float = Field(0.45, gt=0, le=1, description="overlap above which the weaker of two boxes goes (NMS)")

    settings: Settings

    def load(self) -> None:
        self.session = onnx_session(self.models_dir / self.weights[0])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.names: dict[int, str] = ast.literal_eval(meta["names"]) if "names" in meta else {}
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        height, width = model_input.shape[2:4]
        if not isinstance(height, int):  # dynamic axes: fall back on the exported size
            height, width = ast.literal_eval(meta.get("imgsz", "[640, 640]"))
        self.input_size = (int(height), int(width))

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        return [self._detect(frame.image) for frame in frames]

    def _detect(self, image: np.ndarray) -> list[Finding]:
        tensor, scale, pad = letterbox(image, self.input_size)
        output = self.session.run(None, {self.input_name: tensor})[0][0].T  # anchors x (4 + classes)
        scores = output[:, 4:]
        classes = scores.argmax(1)
        confidences = scores[np.arange(len(scores)), classes]
        keep = confidences >= self.settings.confidence
        boxes, classes, confidences = output[keep, :4], classes[keep], confidences[keep]
        xyxy = np.concatenate([boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], axis=1)
        xyxy = (xyxy - np.array([pad[1], pad[0], pad[1], pad[0]])) / scale
        height, width = image.shape[:2]
        xyxy = np.clip(xyxy, 0, [width, height, width, height])
        findings = []
        for index in nms_per_class(xyxy, confidences, classes, self.settings.iou):
            x1, y1, x2, y2 = xyxy[index]
            label = self.names.get(int(classes[index]), str(int(classes[index])))
            box = Box(x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)
            findings.append(Finding(self.kind, label, float(confidences[index]), box))
        return findings


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Scale to fit `size` (h, w) keeping the aspect ratio, pad with grey; NCHW float 0..1."""
    height, width = image.shape[:2]
    scale = min(size[0] / height, size[1] / width)
    new_h, new_w = round(height * scale), round(width * scale)
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR))
    top, left = (size[0] - new_h) // 2, (size[1] - new_w) // 2
    canvas = np.full((size[0], size[1], 3), LETTERBOX_FILL, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return tensor, scale, (top, left)


def nms_per_class(xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> list[int]:
    """Class-aware non-maximum suppression: offset each class so boxes of different
    classes never overlap, then one greedy pass."""
    if len(xyxy) == 0:
        return []
    shifted = xyxy + (classes[:, None] * (xyxy.max() + 1))
    areas = (shifted[:, 2] - shifted[:, 0]) * (shifted[:, 3] - shifted[:, 1])
    order, kept = scores.argsort()[::-1], []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(int(best))
        top_left = np.maximum(shifted[best, :2], shifted[rest, :2])
        bottom_right = np.minimum(shifted[best, 2:], shifted[rest, 2:])
        overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
        order = rest[overlap / (areas[best] + areas[rest] - overlap + 1e-9) < iou]
    return kept
