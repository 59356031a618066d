"""Generated logo scenes with ground truth, for the logo tests and `bench/analysis`.

Logos come from npm `simple-icons` (the dashboard's dev dependencies), rasterised with
resvg in their brand colour, and are pasted into real photos (skimage) with scale,
rotation, perspective, blur and JPEG compression."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SIMPLE_ICONS = Path(__file__).resolve().parents[3] / "frontend" / "node_modules" / "simple-icons"
# Distinct shapes in distinct colours, as a monitoring customer's brand list would be.
SLUGS = ("mcdonalds", "spotify", "shell", "starbucks", "redbull", "twitch", "netflix", "ikea")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")
FRAME_SIZE = (1280, 720)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # H x W x 3 RGB
    slug: str | None
    box: tuple[int, int, int, int] | None  # x, y, w, h in pixels: where the logo truly is


def icons_available() -> bool:
    return (SIMPLE_ICONS / "icons").is_dir()


@cache
def _brand_hex() -> dict[str, str]:
    data = json.loads((SIMPLE_ICONS / "data" / "simple-icons.json").read_text())
    return {icon["slug"]: icon["hex"] for icon in data}


def icon_rgba(slug: str, width: int) -> np.ndarray:
    """The icon in its brand colour on a transparent background, `width` px wide."""
    import resvg_py

    svg = (SIMPLE_ICONS / "icons" / f"{slug}.svg").read_text()
    svg = re.sub(r"<svg ", f'<svg fill="#{_brand_hex()[slug]}" ', svg, count=1)
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, width=width, height=width))
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    return rgba[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def icon_png(slug: str, width: int = 256) -> bytes:
    """A reference image, as a user would upload it."""
    out = io.BytesIO()
    Image.fromarray(icon_rgba(slug, width)).save(out, format="PNG")
    return out.getvalue()


@cache
def photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return cv2.resize(np.ascontiguousarray(image[..., :3]), FRAME_SIZE, interpolation=cv2.INTER_AREA)


def scene(
    rng: np.random.Generator,
    slug: str | None,
    width: int = 128,
    max_angle: float = 30,
    perspective: float = 0.12,
    blur: float = 1.0,
    quality: int = 75,
    plate=None,
    ink=None,
) -> Scene:
    """A photo with the logo `width` px wide pasted at a random place, or none when `slug`
    is None; then blurred and JPEG-compressed, as a broadcast frame would be. With a
    `plate` colour (RGB), the logo is printed reversed: white, on a plate of that colour;
    with an `ink` colour (RGB), it is printed in that colour (a mono print)."""
    frame = photo(PHOTOS[rng.integers(len(PHOTOS))]).copy()
    box = None
    if slug is not None:
        rgba = icon_rgba(slug, 2 * width).copy()
        if plate is not None or ink is not None:
            rgba[..., :3] = 255 if ink is None else ink
        frame, box = _paste(rng, frame, rgba, width, max_angle, perspective, plate)
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    ok, jpeg = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return Scene(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy(), slug, box)  # type: ignore[index]


def _paste(rng, frame, rgba, width, max_angle, perspective, plate=None):
    h, w = rgba.shape[:2]
    scale = width / w
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    # Scale, rotate about the centre, then move each corner a little: a perspective view.
    angle = np.deg2rad(rng.uniform(-max_angle, max_angle))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    placed = (corners - [w / 2, h / 2]) * scale @ rotation.T
    placed += rng.uniform(-perspective, perspective, placed.shape) * width
    span = placed.max(axis=0) - placed.min(axis=0)
    origin = rng.uniform([0, 0], [FRAME_SIZE[0] - span[0], FRAME_SIZE[1] - span[1]]) - placed.min(axis=0)
    placed = np.float32(placed + origin)
    matrix = cv2.getPerspectiveTransform(corners, placed)
    if plate is not None:  # a card around the logo, a fifth of its size beyond it on each side
        margin = 0.2 * max(w, h)
        card = np.float32([[-margin, -margin], [w + margin, -margin], [w + margin, h + margin], [-margin, h + margin]])
        outline = cv2.perspectiveTransform(card[None], matrix)[0].astype(np.int32)
        frame = cv2.fillConvexPoly(frame.copy(), outline, tuple(int(c) for c in plate))
    warped = cv2.warpPerspective(rgba, matrix, FRAME_SIZE, flags=cv2.INTER_LINEAR)
    alpha = warped[..., 3:4].astype(np.float32) / 255
    frame = (frame * (1 - alpha) + warped[..., :3] * alpha).astype(np.uint8)
    ys, xs = np.nonzero(warped[..., 3] > 127)
    return frame, (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def pasted(frame: np.ndarray, slug: str, x: int, y: int, width: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The frame with the logo upright at (x, y), `width` px wide, and its box."""
    rgba = icon_rgba(slug, width)
    h, w = rgba.shape[:2]
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    out = frame.copy()
    out[y : y + h, x : x + w] = (out[y : y + h, x : x + w] * (1 - alpha) + rgba[..., :3] * alpha).astype(np.uint8)
    return out, (x, y, w, h)
