"""Visual properties of a frame: dominant colours (k-means in Lab), brightness, motion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ai_processing.analyzers.base import NO_CONTEXT, Analyzer, Box, Context, Finding, Frame, Kind
from ai_processing.analyzers.colour import lab_to_hex, rgb_to_lab

KEY = "visual"
FULL_FRAME = Box(0.0, 0.0, 1.0, 1.0)
THUMB_WIDTH = 96  # colours and motion need no more detail than this
COLOURS = 5
KMEANS_ITERATIONS = 8


class VisualAnalyzer(Analyzer):
    key = KEY
    kinds = (Kind("visual", "Colours and light", "#94a3b8", boxes=False),)
    queue = "visual"

    def load(self) -> None:
        pass  # no model: numpy only

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        results, previous = [], None
        for frame in frames:
            thumb = _thumbnail(frame.image)
            lab = rgb_to_lab(thumb.reshape(-1, 3))
            motion: float | None = None if previous is None else float(np.abs(lab[:, 0] - previous).mean() / 100.0)
            previous = lab[:, 0]
            extra = {
                "brightness": round(float(lab[:, 0].mean() / 100.0), 4),
                "motion": None if motion is None else round(motion, 4),
                "colours": _dominant_colours(lab),
            }
            results.append([Finding("visual", "frame", 1.0, FULL_FRAME, extra)])
        return results


def _thumbnail(image: np.ndarray) -> np.ndarray:
    step = max(1, image.shape[1] // THUMB_WIDTH)
    return image[::step, ::step]


def _dominant_colours(lab: np.ndarray) -> list[dict]:
    """k-means with a deterministic spread start, so the same frame gives the same answer."""
    order = np.argsort(lab[:, 0])
    centres = lab[order[np.linspace(0, len(order) - 1, COLOURS).astype(int)]].copy()
    for _ in range(KMEANS_ITERATIONS):
        nearest = np.argmin(((lab[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for index in range(COLOURS):
            members = lab[nearest == index]
            if len(members):
                centres[index] = members.mean(0)
    shares = np.bincount(nearest, minlength=COLOURS) / len(lab)
    ranked = sorted(zip(shares, centres), key=lambda pair: -pair[0])
    return [{"hex": lab_to_hex(centre), "share": round(float(share), 4)} for share, centre in ranked if share > 0]
