"""The user's corrections to the logos found, used at once, before the brand's verifier is
rebuilt with them: "not this brand" (a negative) and "missed here" (a positive).

Each correction is a crop of a frame at working scale with the logo's box in it. Its
proposal there gives a feature vector (`logo_verifier.features`). A proposal in a frame
whose standardised features point the same way as a negative's is dropped; one like a
positive's is accepted whatever the verifier says. "The same way" is a cosine similarity
of at least SIMILAR, in the space the brand's verifier standardises its features in.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ai_processing.analyzers.logo_shapes import LogoTemplate, template_build, work_lab, work_rgb
from ai_processing.analyzers.logo_verifier import (
    CORRECTION_MIN_PROPOSAL,
    MIN_PROPOSAL,
    Verifier,
    correction_proposal,
    features,
)

MARGIN = 0.3  # of the box's larger side, kept around it in a crop: the verifier reads the surround
SIMILAR = 0.92  # cosine of standardised features; measured in docs/logos.md "Corrections"
NEGATIVE, POSITIVE = "negative", "positive"


@dataclass(frozen=True)
class Crop:
    image: np.ndarray  # RGB at working scale
    box: tuple[int, int, int, int]  # the logo in it: x, y, w, h px


def crop_at(image: np.ndarray, box: tuple[float, float, float, float]) -> Crop:
    """The region of a full frame around `box` (normalised 0..1), at working scale, with MARGIN."""
    small, _ = work_rgb(image)
    height, width = small.shape[:2]
    x, y, w, h = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    margin = max(8.0, MARGIN * max(w, h))
    x0, y0 = max(0, int(x - margin)), max(0, int(y - margin))
    x1, y1 = min(width, int(np.ceil(x + w + margin))), min(height, int(np.ceil(y + h + margin)))
    inner = (round(x) - x0, round(y) - y0, max(1, round(w)), max(1, round(h)))
    return Crop(np.ascontiguousarray(small[y0:y1, x0:x1]), inner)


def crop_png(crop: Crop) -> bytes:
    out = io.BytesIO()
    Image.fromarray(crop.image).save(out, format="PNG")  # lossless: the features are read off it again
    return out.getvalue()


def crop_read(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def reference_template(brand_id: int, name: str, key: str, data: bytes) -> LogoTemplate | None:
    """A brand's template from a reference image file, as the analyzer builds it (for a
    service looking for a missed logo outside a job)."""
    try:
        image = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    except OSError:
        return None
    return template_build(brand_id, name, image, key)


def crop_features(crop: Crop, kind: str, templates: list[LogoTemplate]) -> np.ndarray | None:
    """The feature vector of the logo's proposal in the crop, or None when nothing there is
    proposed for these templates (a positive is looked for at a lower silhouette bar)."""
    lab, _ = work_lab(crop.image)  # a crop is within a working-scale frame: not reduced again
    floor = CORRECTION_MIN_PROPOSAL if kind == POSITIVE else MIN_PROPOSAL
    proposal = correction_proposal(lab, templates, crop.box, floor)
    return None if proposal is None else features(lab, proposal)


def similarity(verifier: Verifier, a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two feature vectors standardised as the verifier standardises them."""
    za, zb = (a - verifier.mean) / verifier.scale, (b - verifier.mean) / verifier.scale
    return float(za @ zb / max(np.linalg.norm(za) * np.linalg.norm(zb), 1e-9))


@dataclass(frozen=True)
class Corrections:
    """Per brand, the feature vectors of its negatives and positives."""

    negatives: dict[int, list[np.ndarray]] = field(default_factory=dict)
    positives: dict[int, list[np.ndarray]] = field(default_factory=dict)

    def floor(self) -> float:
        """The silhouette bar proposals are gathered at: lower when a brand has positives."""
        return CORRECTION_MIN_PROPOSAL if any(self.positives.values()) else MIN_PROPOSAL

    def wanted(self, brand_id: int) -> bool:
        """Whether a brand's proposals under the usual bars are judged: a brand with positives."""
        return bool(self.positives.get(brand_id))

    def judged(
        self, brand_id: int, verifier: Verifier, vector: np.ndarray, probability: float
    ) -> tuple[float, dict | None]:
        """The proposal's probability after the corrections, and why, when one decided.
        A negative wins over a positive: "not this brand" is the stronger statement."""
        negative = max((similarity(verifier, vector, n) for n in self.negatives.get(brand_id, ())), default=0.0)
        if negative >= SIMILAR:
            return 0.0, {"kind": NEGATIVE, "similarity": round(negative, 3)}
        positive = max((similarity(verifier, vector, p) for p in self.positives.get(brand_id, ())), default=0.0)
        if positive >= SIMILAR:
            return max(probability, positive), {
                "kind": POSITIVE,
                "similarity": round(positive, 3),
                "verifier": round(probability, 3),
            }
        return probability, None  # the analyzer applies its bars


NO_CORRECTIONS = Corrections()
