"""A per-brand verifier of logo proposals, built from the brand's reference images alone,
in seconds, when they are uploaded: the user never trains anything.

A silhouette is a weak cue for a simple mark: a dark coat, a cat's pupil or a plate pass
for Apple's or Nike's outline. So each proposal is also judged by what a printed logo
has and a natural region rarely has: its gradient pattern (HOG of the lightness and of
the region), flat fill, a sharp edge against its surround, and the brand's colour. A
logistic regression per brand weighs those cues. Its positives are the proposals found on synthetic views of the
references (rotation, perspective, scale, blur, lighting, plates, a curved surface, an
occluding hand, JPEG); its negatives are the proposals found
on natural photos that ship in installed packages, on flat geometric shapes, and on the
rest of the synthetic views. A fifth of the views are held back to measure it.
"""

from __future__ import annotations

import io
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from ai_processing.analyzers.logo_shapes import (
    DARK_PRINT_MIN_SCORE,
    Candidate,
    LogoTemplate,
    Proposal,
    dark_regions,
    foreground,
    in_black,
    print_score,
    proposals,
)

MIN_PROPOSAL = 0.7  # silhouette correlation a region needs before it is verified
# A verifier with nothing to learn from gives 0.8 (the analyzer's bar) at this silhouette.
UNTRAINED_MIN_SILHOUETTE, UNTRAINED_STEEPNESS = 0.85, 20.0
VIEWS = 70  # synthetic views of the brand per build
VIEW_SIDE = 360  # px, working scale
HELD_BACK = 0.2
HOG_SIDE, HOG_CELL, HOG_BINS = 32, 8, 9
_FEATURES = 10 + 2 * (HOG_SIDE // HOG_CELL) ** 2 * HOG_BINS
RING = 4  # px at working scale: the surround a logo's edge is compared with
# Natural photos shipped in scikit-image, the negatives every verifier sees.
NEGATIVE_PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "hubble_deep_field",
                   "immunohistochemistry", "horse", "page", "clock", "moon", "grass", "gravel", "brick",
                   "retina", "cell", "text")  # fmt: skip
# Each photo as a frame shows it at working scale (960 x 540), and two closer crops.
NEGATIVE_SIZES = ((960, 540, 1.0), (640, 360, 1.6), (640, 360, 2.6))
# Negatives are mined below the proposal bar: at 0.7 the bundled photos gave 0-8 regions per
# brand, too few to learn what a natural region looks like (the dev split's black marks then
# passed dark blobs at 0.9-0.99).
NEGATIVE_MIN_PROPOSAL = 0.5
MAX_NEGATIVES = 1500
SHARED_VERIFIERS = 256  # kept per process
# Sets of references whose training rows (views, natural and flat negatives) are kept per
# process: a rebuild for a correction needs only the correction's rows and the fit. Up to
# 4 MB each (MAX_NEGATIVES and the views' rows of _FEATURES float64; 0.2-2 MB measured).
KEPT_TRAINING = 16
# A brand's black prints need this much more than the best near-black region of the bundled
# photos scores for it (dev split: BMW's roundel scored 0.91 on one, and 6 false detections in
# 100 frames at a fixed 0.9; DHL 0.84 and Huawei 0.86 gave 9 each at a fixed 0.85).
PRINT_BAR_MARGIN = 0.03
# Verifiers stored before black prints were looked for have no bar of their own: this one.
PRINT_BAR_UNCALIBRATED = 0.95
NEVER = 1.01  # a bar no score reaches


@dataclass(frozen=True)
class Verifier:
    """Standardised features dotted with learned weights: a probability per proposal."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    precision: float  # on the held-back views, at probability 0.5
    recall: float
    seconds: float  # to build
    # The silhouette a black print of the brand needs (`logo_shapes._dark_prints`); NEVER
    # for a brand in black, whose black prints are found in its colours.
    print_bar: float = PRINT_BAR_UNCALIBRATED

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return 1 / (1 + np.exp(-np.clip(z, -30, 30)))

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez(out, mean=self.mean, scale=self.scale, weights=self.weights,
                 numbers=np.array([self.bias, self.precision, self.recall, self.seconds, self.print_bar]))  # fmt: skip
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Verifier:
        arrays = np.load(io.BytesIO(data))
        bias, precision, recall, seconds, *print_bar = arrays["numbers"].tolist()  # stored before it: none
        return cls(arrays["mean"], arrays["scale"], arrays["weights"], bias, precision, recall, seconds, *print_bar)


def features(lab: np.ndarray, proposal: Proposal) -> np.ndarray:
    """What a proposal looks like, as one vector (see the module's docstring)."""
    x, y, w, h = proposal.box
    region = proposal.region
    margin = max(2, round(0.15 * max(w, h)))
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(lab.shape[1], x + w + margin), min(lab.shape[0], y + h + margin)
    patch = lab[y0:y1, x0:x1]
    inside = np.zeros(patch.shape[:2], np.uint8)
    inside[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = region
    ring = cv2.dilate(inside, np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)) - cv2.dilate(
        inside, np.ones((3, 3), np.uint8)
    )
    inner = patch[inside > 0].astype(np.float32)
    outer = patch[ring > 0].astype(np.float32) if ring.any() else inner
    lightness = np.ascontiguousarray(patch[..., 0])
    gradient = cv2.magnitude(cv2.Sobel(lightness, cv2.CV_32F, 1, 0), cv2.Sobel(lightness, cv2.CV_32F, 0, 1))
    edge = cv2.morphologyEx(inside, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    contrast = float(np.linalg.norm(inner.mean(axis=0) - outer.mean(axis=0)))
    colour_gap = float(np.abs(proposal.template.colours - inner.mean(axis=0)).max(axis=1).min())
    shape_cues = np.array([
        proposal.score, region.mean(), np.log(w / h), np.log(max(w, h)),
        inner[:, 0].std(), inner[:, 1:].std(axis=0).mean(), contrast, outer[:, 0].std(),
        float(gradient[edge].mean() if edge.any() else 0.0) / (contrast + 8), colour_gap,
    ], np.float32)  # fmt: skip
    return np.concatenate([shape_cues, _hog(lightness), _hog(inside * 255)])


def _hog(image: np.ndarray) -> np.ndarray:
    """Unsigned gradient orientations per cell (a reversed print reads the same), each
    cell normalised with its neighbours' energy as in HOG (cv2 5 has no HOGDescriptor)."""
    small = cv2.resize(image, (HOG_SIDE, HOG_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    gx, gy = cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1)
    magnitude, angle = cv2.cartToPolar(gx, gy)
    bins = (angle % np.pi / np.pi * HOG_BINS).astype(int) % HOG_BINS
    cells = HOG_SIDE // HOG_CELL
    cell = np.arange(HOG_SIDE) // HOG_CELL
    index = (cell[:, None] * cells + cell[None, :]) * HOG_BINS + bins
    histogram = np.bincount(index.ravel(), magnitude.ravel(), cells * cells * HOG_BINS).reshape(cells, cells, HOG_BINS)
    energy = cv2.blur(np.ascontiguousarray((histogram**2).sum(axis=2)), (3, 3), borderType=cv2.BORDER_REFLECT)
    return (histogram / np.sqrt(energy[..., None] * 9 + 1e-3)).ravel()


_BUILT: dict[str, Verifier] = {}
_BUILDING: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def verifier_cached(key: str) -> Verifier | None:
    """The verifier named `key` if this process has it, without building it."""
    with _GUARD:
        return _BUILT.get(key)


def verifier_shared(key: str, build) -> Verifier:
    """The verifier named `key`, built once per process however many ask at once (the
    upload's build and a job that needs it before that build is stored)."""
    with _GUARD:
        if key in _BUILT:
            return _BUILT[key]
        lock = _BUILDING.setdefault(key, threading.Lock())
    with lock:
        with _GUARD:
            if key in _BUILT:
                return _BUILT[key]
        verifier = build()
        with _GUARD:
            _BUILT[key] = verifier
            _BUILDING.pop(key, None)
            while len(_BUILT) > SHARED_VERIFIERS:
                _BUILT.pop(next(iter(_BUILT)))
        return verifier


def verifier_build(templates: list[LogoTemplate], cutouts: list[np.ndarray], seed: int = 0,
                   negatives=(), positives=()) -> Verifier:  # fmt: skip
    """A verifier for one brand from its templates and their reference cut-outs (RGBA), and
    the user's corrections: (RGB crop, box) pairs, weighted CORRECTION_WEIGHT each."""
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    views_x, views_y, test_x, test_y = _training(templates, cutouts, seed)
    corrected_x, corrected_y = corrections_labelled(templates, negatives, positives)
    train_x, train_y = [*views_x, *corrected_x], [*views_y, *corrected_y]
    if not train_x:  # no proposal anywhere: an empty training set still makes a verifier
        train_x, train_y = [np.zeros(_FEATURES)], [0]
    matrix, labels = np.array(train_x), np.array(train_y)
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0) + 1e-3
    if labels.min() == labels.max():
        # Nothing natural or flat gave a proposal to learn from (yellow marks, often): with
        # no evidence against, the silhouette alone decides, at a stricter score.
        weights = np.zeros(matrix.shape[1])
        weights[0] = UNTRAINED_STEEPNESS * scale[0]
        bias = UNTRAINED_STEEPNESS * (mean[0] - UNTRAINED_MIN_SILHOUETTE) + np.log(0.8 / 0.2)
    else:
        model = LogisticRegression(C=0.02, max_iter=500, class_weight="balanced")
        weight = np.ones(len(labels))
        weight[len(labels) - len(corrected_y) :] = CORRECTION_WEIGHT
        model.fit((matrix - mean) / scale, labels, sample_weight=weight)
        weights, bias = model.coef_[0], float(model.intercept_[0])
    verifier = Verifier(mean, scale, weights, bias, 0.0, 0.0, 0.0)
    precision, recall = _self_test(verifier, np.array(test_x), np.array(test_y))
    seconds = time.perf_counter() - started
    return Verifier(mean, scale, weights, bias, precision, recall, seconds, print_bar(templates))


def print_bar(templates: list[LogoTemplate]) -> float:
    """The silhouette a black print of the brand needs: above what the bundled photos' own
    near-black regions score for it (a simple mark matches some dark blob), and at least
    DARK_PRINT_MIN_SCORE; NEVER for a brand in black (found in its colours)."""
    if any(in_black(template) for template in templates):
        return NEVER
    natural = max((print_score(region, template) for region in _natural_dark_regions() for template in templates),
                  default=0.0)  # fmt: skip
    return min(NEVER, max(DARK_PRINT_MIN_SCORE, natural + PRINT_BAR_MARGIN))


@cache
def _natural_dark_regions() -> tuple[Candidate, ...]:
    """The near-black regions of the bundled photos (the same for every brand)."""
    return tuple(region for image in _natural_negatives() for region, _ in dark_regions(image))


_Rows = tuple[tuple[np.ndarray, ...], tuple[int, ...], tuple[np.ndarray, ...], tuple[int, ...]]
_TRAINING: OrderedDict[tuple, _Rows] = OrderedDict()


def _training(templates: list[LogoTemplate], cutouts: list[np.ndarray], seed: int) -> _Rows:
    """Training and held-back rows of the references, without the corrections: the same
    for every build from these references (the corrections change, the references do not),
    so kept per process by the references' keys (none kept for a template without one)."""
    references = tuple(template.reference for template in templates)
    key = (seed, references) if all(references) else None
    if key is not None:
        with _GUARD:
            if key in _TRAINING:
                _TRAINING.move_to_end(key)
                return _TRAINING[key]
    rows = _training_build(templates, cutouts, seed)
    if key is not None:
        with _GUARD:
            _TRAINING[key] = rows
            while len(_TRAINING) > KEPT_TRAINING:
                _TRAINING.popitem(last=False)
    return rows


def _training_build(templates: list[LogoTemplate], cutouts: list[np.ndarray], seed: int) -> _Rows:
    """Positives and negatives of synthetic views of the references (a fifth held back), and
    the negatives mined on natural photos and flat shapes."""
    rng = np.random.default_rng(seed)
    train_x: list[np.ndarray] = []
    train_y: list[int] = []
    test_x: list[np.ndarray] = []
    test_y: list[int] = []
    for index in range(VIEWS):
        view, box = _synthetic_view(rng, cutouts[index % len(cutouts)])
        x, y = _labelled(cv2.cvtColor(view, cv2.COLOR_RGB2LAB), templates, box)
        (test_x if index < VIEWS * HELD_BACK else train_x).extend(x)
        (test_y if index < VIEWS * HELD_BACK else train_y).extend(y)
    mined = [
        x
        for image in _negative_views(templates[0])
        for x in _labelled(image, templates, None, NEGATIVE_MIN_PROPOSAL)[0]
    ]
    if len(mined) > MAX_NEGATIVES:
        mined = [mined[i] for i in rng.choice(len(mined), MAX_NEGATIVES, replace=False)]
    train_x.extend(mined)
    train_y.extend([0] * len(mined))
    return tuple(train_x), tuple(train_y), tuple(test_x), tuple(test_y)


def _self_test(verifier: Verifier, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if not len(x):
        return 0.0, 0.0
    accepted = verifier.probabilities(x) >= 0.5
    true = (accepted & (y == 1)).sum()
    return float(true / max(accepted.sum(), 1)), float(true / max((y == 1).sum(), 1))


def _labelled(
    lab: np.ndarray, templates: list[LogoTemplate], box, min_score: float = MIN_PROPOSAL
) -> tuple[list, list]:
    """Features and labels of the proposals in a view: 1 on the logo, 0 off it, none for
    the in-between (a part of the logo is neither)."""
    xs, ys = [], []
    for proposal in proposals(lab, templates, min_score):
        overlap = 0.0 if box is None else _iou(proposal.box, box)  # a view whose logo fell outside has none
        if overlap >= 0.5 or overlap < 0.2:
            xs.append(features(lab, proposal))
            ys.append(int(overlap >= 0.5))
    return xs, ys


def _synthetic_view(rng, cutout: np.ndarray):
    """The logo on a natural background at a random pose and condition."""
    background = _photo_crop(rng, VIEW_SIDE, VIEW_SIDE).astype(np.float32)
    rgba = cutout.copy()
    plate = (255, 255, 255) if rng.random() < 0.4 else None
    if rng.random() < 0.15:
        rgba = _curved(rgba)
    side = np.exp(rng.uniform(np.log(24), np.log(300)))
    h, w = rgba.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    angle = np.deg2rad(rng.uniform(-35, 35))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    placed = (corners - [w / 2, h / 2]) * (side / max(w, h)) @ rotation.T
    placed += rng.uniform(-0.12, 0.12, placed.shape) * side
    span = placed.max(axis=0) - placed.min(axis=0)
    origin = rng.uniform(0, np.maximum(VIEW_SIDE - span, 1)) - placed.min(axis=0)
    placed = (placed + origin).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, placed)
    if plate is not None:
        margin = 0.2 * max(w, h)
        quad = np.array(
            [[-margin, -margin], [w + margin, -margin], [w + margin, h + margin], [-margin, h + margin]], np.float32
        )
        outline = cv2.perspectiveTransform(quad[None], matrix)[0].astype(np.int32)
        mask = cv2.fillConvexPoly(np.zeros((VIEW_SIDE, VIEW_SIDE), np.float32), outline, 1.0)[..., None]
        background = background * (1 - mask) + np.asarray(plate, np.float32) * mask
    warped = cv2.warpPerspective(rgba, matrix, (VIEW_SIDE, VIEW_SIDE)).astype(np.float32)
    alpha = warped[..., 3:4] / 255
    image = background * (1 - alpha) + warped[..., :3] * rng.uniform(0.85, 1.05) * alpha
    if rng.random() < 0.15:
        image = _hand(rng, image, placed)
    noise = cv2.randn(np.empty(image.shape, np.float32), 0, float(rng.uniform(1, 5)))  # type: ignore[call-overload]
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.2)) + noise
    # The logo's own pixels, not its rotated rectangle: proposals are boxed so.
    ys, xs = np.nonzero(warped[..., 3] > 127)
    if not len(xs):
        return _jpeg(rng, image), None
    return _jpeg(rng, image), (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def _curved(rgba: np.ndarray) -> np.ndarray:
    h, w = rgba.shape[:2]
    u = np.linspace(-1, 1, w)
    source = ((np.arcsin(u * np.sin(1.0)) / 1.0 + 1) / 2 * (w - 1)).astype(np.float32)
    out = cv2.remap(rgba, np.tile(source, (h, 1)), np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1),
                    cv2.INTER_LINEAR)  # fmt: skip
    out[..., :3] = (out[..., :3] * (0.7 + 0.3 * np.cos(u))[None, :, None]).astype(np.uint8)
    return out


def _hand(rng, image: np.ndarray, placed: np.ndarray) -> np.ndarray:
    centre = placed[rng.integers(4)]
    size = np.ptp(placed, axis=0).max() * rng.uniform(0.2, 0.4)
    mask = cv2.circle(np.zeros(image.shape[:2], np.float32), tuple(int(v) for v in centre), int(size), 1.0, -1)[
        ..., None
    ]
    return image * (1 - mask) + rng.uniform([150, 100, 80], [230, 170, 140]) * mask


def _negative_views(template: LogoTemplate) -> list[np.ndarray]:
    """Natural photos (cached: the same for every brand), then flat shapes in the brand's
    colours on them: plates, discs, bars and strokes are not logos."""
    rng = np.random.default_rng(1)
    shapes = []
    colours = list(template.colours)
    for _ in range(8):
        canvas = cv2.cvtColor(_photo_crop(rng, 480, 270), cv2.COLOR_RGB2LAB)
        for _ in range(6):
            colour = tuple(float(c) for c in colours[rng.integers(len(colours))])
            centre = tuple(int(v) for v in rng.integers([20, 20], [460, 250]))
            size = int(rng.integers(12, 70))
            kind = rng.integers(4)
            if kind == 0:
                cv2.circle(canvas, centre, size, colour, -1)
            elif kind == 1:
                cv2.rectangle(canvas, centre, (centre[0] + size * 2, centre[1] + size), colour, -1)
            elif kind == 2:
                cv2.ellipse(canvas, centre, (size, size // 2), float(rng.uniform(0, 180)), 0, 360, colour, -1)
            else:
                cv2.putText(canvas, "".join(rng.choice(list("ABCDEFGHKMNRSTWXZ"), 4)), centre,
                            cv2.FONT_HERSHEY_SIMPLEX, size / 30, colour, max(1, size // 12))  # fmt: skip
        shapes.append(canvas)
    return [*_natural_negatives(), *shapes]


@cache
def _natural_negatives() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(2)
    return tuple(cv2.cvtColor(_photo_crop(rng, width, height, name, zoom), cv2.COLOR_RGB2LAB)
                 for name in NEGATIVE_PHOTOS for width, height, zoom in NEGATIVE_SIZES)  # fmt: skip


def _photo_crop(rng, width: int, height: int, name: str | None = None, zoom: float | None = None) -> np.ndarray:
    photo = _photo(name or NEGATIVE_PHOTOS[rng.integers(len(NEGATIVE_PHOTOS))])
    h, w = photo.shape[:2]
    zoom = rng.uniform(1.0, 2.0) if zoom is None else zoom
    cw, ch = int(w / zoom), int(h / zoom)
    x, y = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
    crop = cv2.resize(photo[y : y + ch, x : x + cw], (width, height), interpolation=cv2.INTER_AREA)
    return np.clip(crop * rng.uniform(0.7, 1.2, 3), 0, 255).astype(np.uint8)


@cache
def _photo(name: str) -> np.ndarray:
    from skimage import data

    image = np.asarray(getattr(data, name)())
    if image.dtype != np.uint8:
        image = (image * 255).astype(np.uint8) if image.max() <= 1 else image.astype(np.uint8)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def _jpeg(rng, image: np.ndarray) -> np.ndarray:
    image = np.clip(image, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 90))])
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED))


def _iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def cutout(image: np.ndarray) -> np.ndarray:
    """The reference's logo as RGBA, cropped to it: its background made transparent."""
    scale = 256 / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = foreground(image)
    ys, xs = np.nonzero(mask)
    rgba = np.dstack([image[..., :3], mask.astype(np.uint8) * 255])
    return rgba[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


# Corrections made on the exposure report ("not this brand", "missed here"): each is a crop
# of a frame at working scale and the logo's box in it. A missed logo often scores under
# MIN_PROPOSAL on the silhouette (a blurred thin script: 0.6-0.75), so it is looked for lower.
CORRECTION_MIN_PROPOSAL = 0.5
CORRECTION_WEIGHT = 20.0  # one correction outweighs the views: the user saw this very region


def correction_proposal(lab: np.ndarray, templates: list[LogoTemplate], box, min_score: float) -> Proposal | None:
    """The proposal in a correction's crop (Lab) that covers its box best, if any covers half of it."""
    found = [(_iou(proposal.box, box), proposal) for proposal in proposals(lab, templates, min_score)]
    best = max(found, key=lambda pair: (pair[0], pair[1].score), default=(0.0, None))
    return best[1] if best[0] >= 0.3 else None


def corrections_labelled(templates: list[LogoTemplate], negatives=(), positives=()) -> tuple[list, list]:
    """Features and labels of the corrections' proposals: (RGB crop, box) pairs."""
    xs, ys = [], []
    for label, crops, floor in ((0, negatives, MIN_PROPOSAL), (1, positives, CORRECTION_MIN_PROPOSAL)):
        for crop, box in crops:
            lab = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2LAB)
            proposal = correction_proposal(lab, templates, box, floor)
            if proposal is not None:
                xs.append(features(lab, proposal))
                ys.append(label)
    return xs, ys
