"""A generated logo corpus with exact truth, in two fixed splits the detector is never
tuned on together: `dev` (tune on it) and `test` (report it). They differ in seed, brands,
distractor brands and background photos; `unseen` is the test brands on photos that the
verifier never sees as negatives (scikit-learn's), to show what the bundled-photo
negatives are worth.

Frames are 1280x720 photos at a random pan and zoom, with lighting gradients, colour casts
and sensor noise, and 0-2 logos from npm simple-icons: 48-400 px, +-30 deg roll,
perspective, blur and motion blur, plates, reversed and mono variants (white or black on a
dark or brand-coloured plate), a curved surface (a can), a hand over up to 30 %, then JPEG
at a low quality. References are what users upload: PNG or JPEG, on white or on a
coloured square with margins, one to three per brand, some transparent cut-outs.

Truth boxes are the axis-aligned box of the warped glyph rectangle, as the acceptance
scorer defines them. Nothing here is shared with the detector's own synthetic views
(`logo_verifier`): the corpus must not be made the way the detector expects.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "backend"))
from ai_processing.tests.logo_scenes import _brand_hex, icon_rgba  # noqa: E402

FRAME_SIZE = (1280, 720)


@dataclass(frozen=True)
class Split:
    name: str
    seed: int
    brands: tuple[str, ...]
    distractors: tuple[str, ...]
    photos: tuple[str, ...]


# The test brands are the ones media monitoring customers track most, hard ones included:
# black and white marks, red marks, multicolour marks (mono in simple-icons), yellow
# marks, wordmarks, and distinct colours.
TEST = Split(
    "test", 20261202,
    ("nike", "apple", "adidas", "x", "puma", "cocacola", "netflix", "youtube", "target", "google",
     "mastercard", "ebay", "mcdonalds", "shell", "samsung", "intel", "fedex", "spotify", "starbucks", "ikea"),
    ("toyota", "tesla", "pinterest"),
    ("camera", "coffee", "astronaut", "rocket", "horse", "hubble_deep_field", "page", "clock"),
)  # fmt: skip
DEV = Split(
    "dev", 7,
    ("github", "tiktok", "uber", "jordan", "wikipedia", "cnn", "kfc", "lg", "vodafone", "airbnb",
     "dhl", "ups", "huawei", "dell", "visa", "hp", "twitch", "redbull", "nvidia", "bmw"),
    ("honda", "audi", "zara"),
    ("chelsea", "coins", "immunohistochemistry", "retina", "brick", "grass", "gravel", "moon", "cell"),
)  # fmt: skip
UNSEEN = Split("unseen", 99, TEST.brands, TEST.distractors, ("sklearn:china", "sklearn:flower"))
SPLITS = {split.name: split for split in (DEV, TEST, UNSEEN)}


@dataclass
class Logo:
    slug: str
    box: tuple[float, float, float, float]  # x, y, w, h px: the warped glyph rectangle's box
    width: int  # px, the logo's longer side as placed
    distractor: bool
    conditions: tuple[str, ...]


@dataclass
class Frame:
    image: np.ndarray  # H x W x 3 RGB
    logos: list[Logo] = field(default_factory=list)


@dataclass(frozen=True)
class Reference:
    slug: str
    data: bytes  # PNG or JPEG bytes, as uploaded


@cache
def photo(name: str) -> np.ndarray:
    if name.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        image = load_sample_image(name.split(":", 1)[1] + ".jpg")
    else:
        from skimage import data

        image = getattr(data, name)()
    if image.dtype != np.uint8:
        image = (image * 255).astype(np.uint8) if image.max() <= 1 else image.astype(np.uint8)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def references(split: Split) -> dict[str, list[Reference]]:
    """One to three reference images per brand, as users upload them."""
    rng = np.random.default_rng(split.seed + 1)
    return {slug: [_reference(rng, slug) for _ in range(int(rng.integers(1, 4)))] for slug in split.brands}


def _reference(rng: np.random.Generator, slug: str) -> Reference:
    side = int(rng.choice([200, 256, 400, 512]))
    logo = icon_rgba(slug, int(side * rng.uniform(0.6, 0.85)))
    kind = rng.choice(["white", "white", "coloured", "transparent"])
    if kind == "transparent":
        canvas = np.zeros((side, side, 4), np.uint8)
    else:
        colour = (255, 255, 255) if kind == "white" else tuple(int(c) for c in rng.integers(200, 256, 3))
        canvas = np.full((side, side, 4), (*colour, 255), np.uint8)
    h, w = logo.shape[:2]
    y, x = (side - h) // 2, (side - w) // 2
    alpha = logo[..., 3:4] / 255.0
    canvas[y : y + h, x : x + w, :3] = (canvas[y : y + h, x : x + w, :3] * (1 - alpha) + logo[..., :3] * alpha).astype(
        np.uint8
    )
    canvas[y : y + h, x : x + w, 3] = np.maximum(canvas[y : y + h, x : x + w, 3], logo[..., 3])
    out = io.BytesIO()
    if kind != "transparent" and rng.random() < 0.4:
        Image.fromarray(canvas[..., :3]).save(out, format="JPEG", quality=int(rng.integers(75, 95)))
    else:
        Image.fromarray(canvas if kind == "transparent" else canvas[..., :3]).save(out, format="PNG")
    return Reference(slug, out.getvalue())


def frames(split: Split, count: int, hard: bool = False, logo_free: int = 0) -> list[Frame]:
    """`count` frames with 0-2 logos each (a fifth with none), then `logo_free` frames
    with no logo at all. `hard` makes every logo take one of the hard conditions."""
    rng = np.random.default_rng(split.seed + (1000 if hard else 0))
    out = []
    for index in range(count + logo_free):
        frame = Frame(_background(rng, split))
        if index < count:
            for _ in range(int(rng.choice([0, 1, 1, 2]))):
                distractor = rng.random() < 0.15
                slug = str(rng.choice(split.distractors if distractor else split.brands))
                _place(rng, frame, slug, distractor, hard)
        frame.image = _degraded(rng, frame.image)
        out.append(frame)
    return out


def _background(rng, split: Split) -> np.ndarray:
    image = photo(str(rng.choice(split.photos)))
    h, w = image.shape[:2]
    zoom = rng.uniform(1.0, 1.8)
    cw, ch = min(w, int(w / zoom)), min(h, int(h / zoom))
    ch = min(ch, int(cw * 9 / 16)) if cw * 9 / 16 <= h else ch
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    frame = cv2.resize(image[y : y + ch, x : x + cw], FRAME_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    # Lighting: a gradient across the frame and a colour cast.
    gx, gy = np.meshgrid(np.linspace(-1, 1, FRAME_SIZE[0]), np.linspace(-1, 1, FRAME_SIZE[1]))
    direction = rng.uniform(-1, 1, 2)
    gradient = 1 + rng.uniform(0, 0.25) * (direction[0] * gx + direction[1] * gy)
    cast = rng.uniform(0.9, 1.1, 3)
    return np.clip(frame * gradient[..., None] * cast, 0, 255).astype(np.uint8)


def _place(rng, frame: Frame, slug: str, distractor: bool, hard: bool) -> None:
    width = int(np.exp(rng.uniform(np.log(48), np.log(400))))
    conditions: list[str] = []
    rgba = icon_rgba(slug, max(64, 2 * width)).copy()
    if hard:
        conditions.append(str(rng.choice(["reversed", "mono", "curved", "occluded"])))
    elif rng.random() < 0.2:
        conditions.append(str(rng.choice(["reversed", "mono", "curved", "occluded"])))
    rgba, plate = printed(rng, rgba, slug, conditions, white_plate_share=0.45)
    h, w = rgba.shape[:2]
    scale = width / max(h, w)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    angle = np.deg2rad(rng.uniform(-30, 30))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    placed = (corners - [w / 2, h / 2]) * scale @ rotation.T
    placed += rng.uniform(-0.1, 0.1, placed.shape) * width  # perspective
    span = placed.max(axis=0) - placed.min(axis=0)
    if (span >= np.array(FRAME_SIZE) - 4).any():
        return
    origin = rng.uniform([0, 0], [FRAME_SIZE[0] - span[0], FRAME_SIZE[1] - span[1]]) - placed.min(axis=0)
    placed = np.float32(placed + origin)
    box = _box(placed)
    if any(_iou(box, other.box) > 0 for other in frame.logos):
        return
    matrix = cv2.getPerspectiveTransform(corners, placed)
    image = frame.image.astype(np.float32)
    if plate is not None:
        image = _plate(rng, image, rgba.shape, matrix, plate)
    warped = cv2.warpPerspective(rgba, matrix, FRAME_SIZE, flags=cv2.INTER_LINEAR).astype(np.float32)
    alpha = warped[..., 3:4] / 255 * rng.uniform(0.88, 1.0)
    colour = warped[..., :3] * rng.uniform(0.8, 1.05)
    blur = rng.choice([0, 0, 0.7, 1.3, 2.0])
    if blur:
        colour, alpha = cv2.GaussianBlur(colour, (0, 0), blur), cv2.GaussianBlur(alpha, (0, 0), blur)[..., None]
        conditions.append("blur")
    image = image * (1 - alpha) + colour * alpha
    if "occluded" in conditions:
        image = _hand(rng, image, box)
    frame.image = np.clip(image, 0, 255).astype(np.uint8)
    frame.logos.append(Logo(slug, box, width, distractor, tuple(conditions)))


def printed(rng, rgba: np.ndarray, slug: str, conditions, white_plate_share: float):
    """The logo as printed under its conditions (changed in place), and its plate's colour or
    None: reversed is white on the brand's colour or near black, mono is white on near black
    or black on nothing; otherwise a white plate at `white_plate_share`."""
    plate = None
    if "reversed" in conditions:
        rgba[..., :3] = 255
        plate = _brand_rgb(slug) if rng.random() < 0.5 else tuple(int(c) for c in rng.integers(0, 50, 3))
    elif "mono" in conditions:
        light = rng.random() < 0.5
        rgba[..., :3] = 255 if light else 0
        plate = tuple(int(c) for c in rng.integers(0, 50, 3)) if light else None
    elif rng.random() < white_plate_share:
        plate = (255, 255, 255)
    if "curved" in conditions:
        rgba = _curved(rgba)
    return rgba, plate


def _brand_rgb(slug: str) -> tuple[int, int, int]:
    hex_colour = _brand_hex()[slug]
    return tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))


def _curved(rgba: np.ndarray) -> np.ndarray:
    """The logo on a can: columns squeezed toward the edges, as a cylinder shows them."""
    h, w = rgba.shape[:2]
    u = np.linspace(-1, 1, w)
    source = (np.arcsin(np.clip(u * np.sin(1.1), -1, 1)) / 1.1 + 1) / 2 * (w - 1)
    map_x = np.tile(source.astype(np.float32), (h, 1))
    map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1)
    shade = (0.75 + 0.25 * np.cos(u * 1.1))[None, :, None]
    out = cv2.remap(rgba, map_x, map_y, cv2.INTER_LINEAR)
    out[..., :3] = (out[..., :3] * shade).astype(np.uint8)
    return out


def _plate(rng, image, shape, matrix, colour) -> np.ndarray:
    h, w = shape[:2]
    margin = 0.18 * max(h, w)
    quad = np.float32([[-margin, -margin], [w + margin, -margin], [w + margin, h + margin], [-margin, h + margin]])
    corners = cv2.perspectiveTransform(quad[None], matrix)[0]
    mask = cv2.fillConvexPoly(np.zeros(image.shape[:2], np.float32), corners.astype(np.int32), 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None] * rng.uniform(0.85, 1.0)
    return image * (1 - mask) + np.array(colour, np.float32) * mask


def _hand(rng, image, box) -> np.ndarray:
    """A skin-coloured ellipse over 10-30 % of the logo's box, from one side."""
    x, y, w, h = box
    skin = np.array([rng.uniform(150, 230), rng.uniform(100, 170), rng.uniform(80, 140)], np.float32)
    share = rng.uniform(0.1, 0.3)
    side = rng.integers(4)
    cx, cy = [(x, y + h / 2), (x + w, y + h / 2), (x + w / 2, y), (x + w / 2, y + h)][side]
    axes = (int(w * share * 1.3), int(h * 0.45)) if side < 2 else (int(w * 0.45), int(h * share * 1.3))
    mask = cv2.ellipse(np.zeros(image.shape[:2], np.float32), (int(cx), int(cy)), axes, 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.5)[..., None]
    return image * (1 - mask) + skin * mask


def _degraded(rng, image: np.ndarray) -> np.ndarray:
    out = image.astype(np.float32) + rng.normal(0, rng.uniform(1, 5), image.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:
        kernel = np.zeros((7, 7), np.float32)
        kernel[3] = 1 / 7
        out = cv2.filter2D(
            out, -1, cv2.warpAffine(kernel, cv2.getRotationMatrix2D((3, 3), rng.uniform(0, 180), 1), (7, 7))
        )
    ok, jpeg = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 80))])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _box(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = np.clip(points.min(axis=0), 0, None)
    x1, y1 = np.minimum(points.max(axis=0), FRAME_SIZE)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0
