"""bench/logos: a held-out logo *stream* (video + exact truth), in the acceptance sample's format.

Makes one 1280x720 H.264 + AAC FLV (`video.flv`) of backgrounds from a corpus split's photos
(slow pan and zoom, a cut every 4-8 s, some of them crossfades) with logo appearances of 1-4 s
(0-2 at a time, static or moving linearly, fixed perspective, roll fixed or slowly turning,
48-400 px, optional white plate, blur, opacity 0.88-1, brightness 0.8-1.05), distractor brands
at about 15 % of the appearances, some reserved logo-free stretches, and sensor noise; then
`truth.json` in the schema of /work/shared/eval/logos-sample (what `score_logos.py` and
`e2e_logos.py` read, and the sample's other top-level fields) and `reference/<slug>.png` (the
brand-colour logo, 200 px on its longer side, on a white 256 px square, as in the sample) plus
`reference_alpha/<slug>.png` (the same as a transparent cut-out).

The pieces are corpus.py's (photos, splits, plates, curved surfaces, hands, brand colours) and
logo_scenes' rasterised npm simple-icons, so a stream is drawn the way the still corpus is.

usage:
  .venv/bin/python bench/logos/make_stream.py --out /tmp/stream-test [--split test|dev|unseen]
      [--duration 60] [--hard] [--hard-frac F] [--logo-free-s 0] [--seed N] [--brands a,b,c]
      [--crf 23] [--preset veryfast] [--no-video]
  python3 /work/shared/eval/logos-sample/score_logos.py --truth /tmp/stream-test/truth.json --self-test
  python3 /work/shared/eval/logos-sample/e2e_logos.py --base http://127.0.0.1:8000 \
      --rtmp rtmp://127.0.0.1:1935/live --password-file var/admin-password --set /tmp/stream-test --out /tmp/run
  python3 /work/shared/eval/logos-sample/score_logos.py --truth /tmp/stream-test/truth.json --pred /tmp/run/pred.json

--hard gives every appearance one hard condition (reversed: white glyph on a brand-coloured or
dark plate; mono: black or white glyph; curved: on a can; occluded: a hand over 10-30 % of its
box; blur: sigma 2.5-4 px); --hard-frac F gives a fraction F of them one (default 0, 1 with
--hard). --logo-free-s S keeps the last S seconds free of logos (false positives per minute).
--no-video writes truth and references only (the frames are still composed, for the tight boxes).

Truth, per frame a logo is visible (frame f is shown at t = f / fps): `quad` the icon's glyph
rectangle's four warped corners (TL, TR, BR, BL), `box` their axis-aligned bbox clipped to the
frame, `tight` the bbox of the warped glyph pixels (alpha > 127, before blur; a hand over the
logo does not shrink it), `visible_frac` the share of the quad's area inside the frame (1.0
unless a moving logo enters or leaves through an edge). Pixel coordinates are continuous:
pixel (i, j) covers [i, i+1) x [j, j+1).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402  (puts backend/ on sys.path)

from ai_processing.tests.logo_scenes import SIMPLE_ICONS, _brand_hex, icon_rgba  # noqa: E402

W, H = corpus.FRAME_SIZE
DEFAULT_SEED = 4177  # no corpus split uses it (20261202, 7, 99 and their +1 / +1000)
HARD_CONDITIONS = ("reversed", "mono", "curved", "occluded", "blur")
PLATE_MARGIN = 0.18  # corpus._plate's margin, as a share of the glyph's longer side
DEFINITIONS = {
    "frame_time": "frame f is shown at t = f / fps (presentation timestamp, first frame at 0)",
    "t_end": "exclusive: the logo is visible in frames frame_start .. frame_end-1",
    "box": "[x, y, w, h] pixels: axis-aligned bbox of the warped logo quad (glyph rectangle), clipped to the frame",
    "box_norm": "box divided by width/height (0..1)",
    "tight": "axis-aligned bbox of the warped glyph pixels (alpha > 127), tighter than box for rotated logos",
    "quad": "the glyph rectangle's four warped corners (TL, TR, BR, BL), pixels",
    "visible_frac": "share of the quad's area inside the frame",
    "screen_time_s": "frames in which the brand is visible / fps",
    "mean_area_share": "mean over the brand's visible frames of its box_norm area (w*h)",
    "position_grid_s": "3x3 [row][col] seconds, by the box centre (row 0 = top, col 0 = left)",
    "distractor": "brand not in the reference set: a correct system reports nothing for it",
    "conditions": "hard conditions of an appearance: reversed, mono, curved, occluded, blur",
}


# ----------------------------------------------------------------------------- brands


def _icon_data() -> dict[str, dict]:
    data = json.loads((SIMPLE_ICONS / "data" / "simple-icons.json").read_text())
    return {icon["slug"]: icon for icon in data if (SIMPLE_ICONS / "icons" / f"{icon['slug']}.svg").exists()}


def _simple_icons_version() -> str:
    try:
        return json.loads((SIMPLE_ICONS / "package.json").read_text())["version"]
    except (OSError, KeyError, ValueError):
        return "unknown"


def _glyph(slug: str, longer: int) -> np.ndarray:
    """The brand-colour glyph (RGBA, cropped to its pixels), `longer` px on its longer side:
    rendered at twice that and area-downsampled, so small logos are not aliased."""
    rgba = icon_rgba(slug, max(64, 2 * longer))
    h, w = rgba.shape[:2]
    scale = longer / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)


def write_references(out: Path, slugs: list[str]) -> None:
    """reference/<slug>.png as the sample's (RGB, 256 px white square, glyph 200 px on its
    longer side, centred) and reference_alpha/<slug>.png (the same, transparent)."""
    (out / "reference").mkdir(parents=True, exist_ok=True)
    (out / "reference_alpha").mkdir(parents=True, exist_ok=True)
    for slug in slugs:
        logo = _glyph(slug, 200)
        h, w = logo.shape[:2]
        y, x = (256 - h) // 2, (256 - w) // 2
        cut = np.zeros((256, 256, 4), np.uint8)
        cut[y : y + h, x : x + w] = logo
        alpha = cut[..., 3:4].astype(np.float32) / 255
        white = 255 * (1 - alpha) + cut[..., :3] * alpha
        Image.fromarray(np.round(white).astype(np.uint8)).save(out / "reference" / f"{slug}.png")
        Image.fromarray(cut).save(out / "reference_alpha" / f"{slug}.png")


# ----------------------------------------------------------------------------- backgrounds


@dataclass
class Shot:
    name: str
    f0: int  # first frame (crossfades overlap the previous shot by `fade` frames)
    f1: int  # exclusive
    fade: int  # frames of crossfade in from the previous shot (0: a cut)
    zoom: tuple[float, float]
    centre: tuple[tuple[float, float], tuple[float, float]]  # in photo pixels, start and end
    direction: tuple[float, float]
    strength: float
    cast: tuple[float, float, float]
    noise: float
    _cache: dict = field(default_factory=dict)

    def light(self) -> np.ndarray:
        """The lighting of corpus._background, a gradient across the frame and a colour cast,
        as a uint8 multiplier (128 = 1.0) for cv2.multiply."""
        if "light" not in self._cache:
            gx, gy = np.meshgrid(np.linspace(-1, 1, W, dtype=np.float32), np.linspace(-1, 1, H, dtype=np.float32))
            gradient = 1 + self.strength * (self.direction[0] * gx + self.direction[1] * gy)
            light = gradient[..., None] * np.float32([*self.cast, 1.0]) * 128
            self._cache["light"] = np.clip(np.round(light), 0, 255).astype(np.uint8)
        return self._cache["light"]

    def grain(self, bank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensor noise of this shot's sigma as (positive, negative) uint8 parts of a bank
        larger than the frame, so that each frame takes a random window of it."""
        if "grain" not in self._cache:
            noise = np.round(bank * self.noise)
            self._cache["grain"] = (np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8))
        return self._cache["grain"]

    def render(self, f: int) -> np.ndarray:
        """The frame's background, RGBA uint8 (4 channels: OpenCV's fast path)."""
        if "photo" not in self._cache:
            self._cache["photo"] = cv2.cvtColor(corpus.photo(self.name), cv2.COLOR_RGB2RGBA)
        image = self._cache["photo"]
        ph, pw = image.shape[:2]
        u = 0.0 if self.f1 - self.f0 <= 1 else (f - self.f0) / (self.f1 - 1 - self.f0)
        zoom = self.zoom[0] + u * (self.zoom[1] - self.zoom[0])
        cx = self.centre[0][0] + u * (self.centre[1][0] - self.centre[0][0])
        cy = self.centre[0][1] + u * (self.centre[1][1] - self.centre[0][1])
        cw, ch = _crop_size(pw, ph, zoom)
        s = W / cw
        # photo pixel centres at (i + .5, j + .5), as the frame's
        matrix = np.float32([[s, 0, W / 2 - s * cx + (s - 1) / 2], [0, s, H / 2 - s * cy + (s - 1) / 2]])
        frame = cv2.warpAffine(image, matrix, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return cv2.multiply(frame, self.light(), scale=1 / 128)


def _crop_size(pw: int, ph: int, zoom: float) -> tuple[float, float]:
    """The largest 16:9 crop of a pw x ph photo, divided by zoom."""
    cw, ch = (ph * 16 / 9, ph) if pw / ph > 16 / 9 else (pw, pw * 9 / 16)
    return cw / zoom, ch / zoom


def plan_shots(rng, photos: tuple[str, ...], n_frames: int, fps: float) -> list[Shot]:
    shots: list[Shot] = []
    f, last = 0, None
    while f < n_frames:
        length = int(round(rng.uniform(4, 8) * fps))
        if n_frames - (f + length) < 2 * fps:  # no stub of a shot at the end
            length = n_frames - f
        fade = int(round(rng.uniform(0.3, 0.8) * fps)) if shots and rng.random() < 0.35 else 0
        name = str(rng.choice([p for p in photos if p != last] or list(photos)))
        image = corpus.photo(name)
        ph, pw = image.shape[:2]
        z0 = rng.uniform(1.0, 1.5)
        z1 = float(np.clip(z0 * rng.uniform(0.88, 1.14), 1.0, 1.7))
        centres = []
        for z in (z0, z1):
            cw, ch = _crop_size(pw, ph, z)
            centres.append((rng.uniform(cw / 2, pw - cw / 2), rng.uniform(ch / 2, ph - ch / 2)))
        # slow pan: at most a quarter of the crop's width over the shot
        cw, _ = _crop_size(pw, ph, max(z0, z1))
        d = np.subtract(centres[1], centres[0])
        if np.hypot(*d) > cw / 4:
            d *= cw / 4 / np.hypot(*d)
            centres[1] = (centres[0][0] + d[0], centres[0][1] + d[1])
        start = max(0, f - fade)
        shots.append(Shot(name, start, f + length, f - start, (z0, z1), tuple(centres),
                          tuple(rng.uniform(-1, 1, 2)), rng.uniform(0, 0.25), tuple(rng.uniform(0.9, 1.1, 3)),
                          rng.uniform(1.0, 4.0)))  # fmt: skip
        f, last = f + length, name
    return shots


# ----------------------------------------------------------------------------- logos


@dataclass
class Appearance:
    id: int
    brand: str
    title: str
    distractor: bool
    f0: int
    f1: int  # exclusive
    rgba: np.ndarray  # the glyph as drawn (after reversed / mono / curved), display size
    size: tuple[int, int]  # display w, h of the glyph rectangle before perspective
    roll: tuple[float, float]  # degrees, at f0 and f1 - 1
    yaw: float
    pitch: float
    centre: tuple[tuple[float, float], tuple[float, float]]
    blur: float
    plate: tuple[int, int, int] | None
    opacity: float
    brightness: float
    conditions: tuple[str, ...]
    moving: bool
    seed: int  # for corpus._plate / _hand's draws, the same on every frame
    frames: list[dict] = field(default_factory=list)
    _flat: np.ndarray | None = None  # the 3D-tilted, unrolled corners about the centre
    _still: tuple | None = None  # a still logo's layer, drawn the same on every frame

    def _u(self, f: int) -> float:
        return 0.0 if self.f1 - self.f0 <= 1 else (f - self.f0) / (self.f1 - 1 - self.f0)

    def quad(self, f: int) -> np.ndarray:
        """The glyph rectangle's corners (TL, TR, BR, BL) in frame pixels at frame f."""
        if self._flat is None:
            w, h = self.size
            local = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
            a, b = math.radians(self.yaw), math.radians(self.pitch)
            ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
            rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
            p = local @ (rx @ ry).T
            distance = 2.5 * max(w, h)  # a pinhole camera this far from the logo: a mild keystone
            self._flat = p[:, :2] * (distance / (distance + p[:, 2:3]))
        u = self._u(f)
        angle = math.radians(self.roll[0] + u * (self.roll[1] - self.roll[0]))
        rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        cx = self.centre[0][0] + u * (self.centre[1][0] - self.centre[0][0])
        cy = self.centre[0][1] + u * (self.centre[1][1] - self.centre[0][1])
        return self._flat @ rotation.T + [cx, cy]

    def matrix(self, f: int) -> np.ndarray:
        """The homography from the glyph raster's (continuous) pixel coordinates to the frame's."""
        h, w = self.rgba.shape[:2]
        rect = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        return cv2.getPerspectiveTransform(rect, self.quad(f).astype(np.float32)).astype(np.float64)

    def reach(self, f: int) -> np.ndarray:
        """Where the logo, its plate (corpus._plate's margin) and a hand (corpus._hand: up to
        0.39 of the box beyond its edge) may draw: x0, y0, x1, y1, unclipped."""
        h, w = self.rgba.shape[:2]
        m = PLATE_MARGIN * max(h, w) + 2
        plate = np.float32([[[-m, -m], [w + m, -m], [w + m, h + m], [-m, h + m]]])
        p = cv2.perspectiveTransform(plate, self.matrix(f))[0]
        x0, y0, x1, y1 = np.concatenate([p.min(axis=0), p.max(axis=0)])
        if "occluded" in self.conditions:
            q = self.quad(f)
            (qx0, qy0), (qx1, qy1) = q.min(axis=0), q.max(axis=0)
            pad = 0.42 * max(qx1 - qx0, qy1 - qy0) + 4
            x0, y0, x1, y1 = min(x0, qx0 - pad), min(y0, qy0 - pad), max(x1, qx1 + pad), max(y1, qy1 + pad)
        return np.array([x0, y0, x1, y1])

    def params(self) -> dict:
        return {
            "logo_w_px": int(self.size[0]), "logo_h_px": int(self.size[1]),
            "rotation_deg": [round(self.roll[0], 2), round(self.roll[1], 2)],
            "yaw_deg": round(self.yaw, 2), "pitch_deg": round(self.pitch, 2),
            "moving": self.centre[0] != self.centre[1],
            "center_px": [[round(c, 1) for c in self.centre[0]], [round(c, 1) for c in self.centre[1]]],
            "blur_sigma_px": round(self.blur, 3), "plate": self.plate is not None,
            "opacity": round(self.opacity, 3), "brightness": round(self.brightness, 3),
            "plate_rgb": list(self.plate) if self.plate is not None else None,
            "conditions": list(self.conditions),
        }  # fmt: skip


def _visible_frac(q: np.ndarray) -> float:
    area = abs(cv2.contourArea(q.astype(np.float32)))
    frame = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    inter, _ = cv2.intersectConvexConvex(q.astype(np.float32), frame)
    return float(min(1.0, inter / area)) if area > 0 else 0.0


def _overlaps(a: np.ndarray, b: np.ndarray, gap: float = 8) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def _make_appearance(rng, index, slug, title, distractor, f0, f1, fps, hard_frac) -> Appearance:
    longer = int(np.exp(rng.uniform(np.log(48), np.log(400))))
    conditions: list[str] = []
    if rng.random() < hard_frac:
        conditions.append(str(rng.choice(HARD_CONDITIONS)))
    rgba = _glyph(slug, longer).copy()
    rgba, plate = corpus.printed(rng, rgba, slug, conditions, white_plate_share=0.5)
    blur = rng.uniform(2.5, 4.0) if "blur" in conditions else float(rng.choice([0, 0, 0, 0.7, 1.3, 2.0]))
    roll0 = rng.uniform(-30, 30)
    moving = rng.random() < 0.5
    roll1 = float(np.clip(roll0 + rng.uniform(-10, 10), -30, 30)) if moving and rng.random() < 0.6 else roll0
    h, w = rgba.shape[:2]
    return Appearance(
        index, slug, title, distractor, f0, f1, rgba, (w, h), (roll0, roll1), rng.uniform(-25, 25),
        rng.uniform(-25, 25), ((0.0, 0.0), (0.0, 0.0)), blur, plate, rng.uniform(0.88, 1.0), rng.uniform(0.8, 1.05),
        tuple(conditions), moving, int(rng.integers(2**31)),
    )  # fmt: skip


def _place(rng, app: Appearance, fps: float, concurrent: list[Appearance]) -> bool:
    """Choose the centre(s): the quad inside the frame throughout (a moving logo may enter or
    leave through an edge, 45 % of it inside at least), clear of the concurrent logos."""
    app._flat = None
    probe = [app.f0, app.f1 - 1] + list(range(app.f0, app.f1, 3))
    app.centre = ((0.0, 0.0), (0.0, 0.0))
    spans = [np.ptp(app.quad(f), axis=0) for f in (app.f0, app.f1 - 1)]
    span = np.max(spans, axis=0)
    if (span >= np.array([W, H]) - 8).any():
        return False
    moving = app.moving
    edge = moving and rng.random() < 0.15
    lo, hi = span / 2 + 2, np.array([W, H]) - span / 2 - 2
    if edge:
        lo, hi = np.array([span[0] * 0.1, span[1] * 0.1]), np.array([W, H]) - span * 0.1
    c0 = rng.uniform(lo, hi)
    if moving:
        c1 = rng.uniform(span / 2 + 2, np.array([W, H]) - span / 2 - 2)
        if edge and rng.random() < 0.5:
            c0, c1 = c1, c0
        seconds = (app.f1 - app.f0) / fps
        d = c1 - c0
        if np.hypot(*d) > 450 * seconds:
            c1 = c0 + d * 450 * seconds / np.hypot(*d)
        if np.hypot(*(c1 - c0)) < 30:
            return False
    else:
        c1 = c0
    app.centre = (tuple(float(v) for v in c0), tuple(float(v) for v in c1))
    for f in probe:
        q = app.quad(f)
        frac = _visible_frac(q)
        if frac < (0.45 if edge else 0.999):
            return False
        for other in concurrent:
            if other.f0 <= f < other.f1 and _overlaps(app.reach(f), other.reach(f)):
                return False
    return True


def plan_appearances(rng, refs, distractors, titles, n_frames, logo_end, fps, hard_frac):
    apps: list[Appearance] = []
    reserved: list[tuple[float, float]] = []
    occupancy = np.zeros(n_frames + 1, np.int32)
    deck: list[str] = []
    t = rng.uniform(0.2, 1.5)
    gap_allowed = False
    while t * fps < logo_end - fps:
        if gap_allowed and rng.random() < 0.1:  # a reserved stretch with no logo at all
            gap_allowed = False
            g0 = max(t, max(a.f1 for a in apps) / fps)
            g1 = g0 + rng.uniform(1.5, 3.5)
            if g1 * fps <= logo_end:
                reserved.append((round(g0, 3), round(g1, 3)))
            t = g1 + rng.uniform(0, 0.5)
            continue
        f0 = int(round(t * fps))
        f1 = min(f0 + int(round(rng.uniform(1.0, 4.0) * fps)), logo_end)
        t += rng.uniform(0.5, 3.5)
        if f1 - f0 < int(fps) or occupancy[f0:f1].max() >= 2:
            continue
        concurrent = [a for a in apps if a.f0 < f1 and a.f1 > f0]
        busy = {a.brand for a in concurrent}
        distractor = bool(distractors) and rng.random() < 0.15
        if distractor:
            choices = [d for d in distractors if d not in busy]
            if not choices:
                continue
            slug = str(rng.choice(choices))
        else:
            if not deck:
                deck = [str(s) for s in rng.permutation(refs)]
            pick = next((i for i, s in enumerate(deck) if s not in busy), None)
            if pick is None:
                continue
            slug = deck.pop(pick)
        for _ in range(30):
            app = _make_appearance(rng, len(apps), slug, titles[slug], distractor, f0, f1, fps, hard_frac)
            if _place(rng, app, fps, concurrent):
                apps.append(app)
                occupancy[f0:f1] += 1
                gap_allowed = True
                break
        else:
            if not distractor:
                deck.insert(0, slug)
    return apps, reserved


def _compose(app: Appearance, roi: np.ndarray, local: np.ndarray, box: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The plate, the glyph and the hand over `roi` (float32), as corpus._place draws them;
    and the warped glyph's alpha (uint8, before blur and opacity) for the tight box."""
    if app.plate is not None:
        roi = corpus._plate(np.random.default_rng(app.seed), roi, app.rgba.shape, local, app.plate)
    warped = cv2.warpPerspective(app.rgba, local, roi.shape[1::-1], flags=cv2.INTER_LINEAR)
    glyph = warped[..., 3].copy()
    warped = warped.astype(np.float32)
    alpha = warped[..., 3:4] * np.float32(app.opacity / 255)
    colour = warped[..., :3] * np.float32(app.brightness)
    if app.blur:
        colour = cv2.GaussianBlur(colour, (0, 0), app.blur)
        alpha = cv2.GaussianBlur(alpha, (0, 0), app.blur)[..., None]
    roi = roi * (1 - alpha) + colour * alpha
    if "occluded" in app.conditions:
        roi = corpus._hand(np.random.default_rng(app.seed + 1), roi, box)
    return roi, glyph


def _layer(app: Appearance, f: int, image: np.ndarray | None) -> tuple | None:
    """The logo's region at frame f, its truth entry, and either the composited region of
    `image` or (image None) the region as gain and offset (out = background * gain + offset:
    every step is a blend), which a logo that neither moves nor turns reuses on every frame."""
    q = app.quad(f)
    reach = app.reach(f)
    x0, y0 = np.floor(np.maximum(reach[:2] - 3 * app.blur - 3, 0)).astype(int)
    x1, y1 = np.ceil(np.minimum(reach[2:] + 3 * app.blur + 3, [W, H])).astype(int)
    if x1 <= x0 or y1 <= y0:
        return None
    # pixel centres: source (i, j) sits at (i + .5, j + .5); ROI pixel (p, q) at (p + x0 + .5, ...)
    shift_in = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    shift_out = np.array([[1, 0, -x0 - 0.5], [0, 1, -y0 - 0.5], [0, 0, 1]])
    local = shift_out @ app.matrix(f) @ shift_in
    bx0, by0 = np.clip(q.min(axis=0), 0, [W, H])
    bx1, by1 = np.clip(q.max(axis=0), 0, [W, H])
    box = [bx0, by0, bx1 - bx0, by1 - by0]
    box_local = (box[0] - x0, box[1] - y0, box[2], box[3])
    if image is not None:
        pixels, glyph = _compose(app, image[y0:y1, x0:x1, :3].astype(np.float32), local, box_local)
    else:
        offset, glyph = _compose(app, np.zeros((y1 - y0, x1 - x0, 3), np.float32), local, box_local)
        gain, _ = _compose(app, np.ones((y1 - y0, x1 - x0, 3), np.float32), local, box_local)
        pixels = (gain - offset, offset)
    ys, xs = np.nonzero(glyph > 127)
    if not len(xs) or box[2] <= 0 or box[3] <= 0:
        return (x0, y0, x1, y1), pixels, None
    tight = [xs.min() + x0, ys.min() + y0, xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    entry = {
        "f": f, "t": None,
        "box": [round(float(v), 2) for v in box],
        "box_norm": [round(float(v) / d, 5) for v, d in zip(box, (W, H, W, H))],
        "tight": [round(float(v), 2) for v in tight],
        "tight_norm": [round(float(v) / d, 5) for v, d in zip(tight, (W, H, W, H))],
        "quad": [[round(float(x), 2), round(float(y), 2)] for x, y in q],
        "visible_frac": round(_visible_frac(q), 4),
    }  # fmt: skip
    return (x0, y0, x1, y1), pixels, entry


def draw(image: np.ndarray, app: Appearance, f: int) -> dict | None:
    """Composite the logo into `image` (uint8, H x W x 3 or 4, in place) and return its truth
    entry for frame f (None where no glyph pixel is in the frame)."""
    still = app.centre[0] == app.centre[1] and app.roll[0] == app.roll[1]
    if still:
        if app._still is None:
            app._still = _layer(app, f, None)
        layer = app._still
    else:
        layer = _layer(app, f, image)
    if layer is None:
        return None
    (x0, y0, x1, y1), pixels, entry = layer
    if still:
        gain, offset = pixels
        pixels = image[y0:y1, x0:x1, :3].astype(np.float32) * gain + offset
    image[y0:y1, x0:x1, :3] = np.clip(pixels, 0, 255).astype(np.uint8)
    return None if entry is None else dict(entry, f=f)


# ----------------------------------------------------------------------------- output


def _ffmpeg(out: Path, fps: float, duration: float, crf: int, preset: str) -> subprocess.Popen:
    import imageio_ffmpeg

    gop = int(round(2 * fps))
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{W}x{H}", "-r", f"{fps:g}", "-i", "-",
        # the AAC encoder's priming (1024 samples) would start the audio at -21 ms and the FLV
        # muxer would then shift everything, the video to 21 ms: start the audio late instead
        "-itsoffset", f"{1024 / 48000:.7f}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration:.3f}",
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0",
        "-c:a", "aac", "-b:a", "128k", "-ac", "1", "-shortest", "-f", "flv", str(out / "video.flv"),
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=open(out / "ffmpeg.log", "wb"))


def per_brand_stats(apps: list[Appearance], brands: list[str], distractor_set: set[str], fps: float) -> dict:
    out = {}
    for slug in sorted(set(brands) | {a.brand for a in apps}):
        mine = [a for a in apps if a.brand == slug]
        grid = np.zeros((3, 3))
        areas, frames = [], set()
        for a in mine:
            for e in a.frames:
                x, y, w, h = e["box_norm"]
                grid[min(2, int((y + h / 2) * 3)), min(2, int((x + w / 2) * 3))] += 1 / fps
                areas.append(w * h)
                frames.add(e["f"])
        out[slug] = {
            "distractor": slug in distractor_set, "appearances": len(mine),
            "position_grid_s": [[round(v, 4) for v in row] for row in grid],
            "screen_time_s": round(len(frames) / fps, 4), "frames": len(frames),
            "mean_area_share": round(float(np.mean(areas)), 5) if areas else 0.0,
        }  # fmt: skip
    return out


def _intervals(mask: np.ndarray, fps: float) -> list[list[float]]:
    out, start = [], None
    for f, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = f
        elif not v and start is not None:
            out.append([round(start / fps, 4), round(f / fps, 4)])
            start = None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--split", default="test", choices=sorted(corpus.SPLITS))
    ap.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--hard", action="store_true", help="every appearance takes one hard condition")
    ap.add_argument(
        "--hard-frac", type=float, help="share of appearances with a hard condition (default 0; 1 with --hard)"
    )
    ap.add_argument("--logo-free-s", type=float, default=0.0, help="seconds at the end with no logo (default 0)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--brands", help="comma-separated slugs: the reference brands (default: the split's)")
    ap.add_argument("--crf", type=int, default=23)
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--no-video", action="store_true", help="truth and references only")
    args = ap.parse_args()
    t_begin = time.time()
    cv2.setNumThreads(1)

    split = corpus.SPLITS[args.split]
    icons = _icon_data()
    wanted = [s.strip() for s in args.brands.split(",") if s.strip()] if args.brands else list(split.brands)
    refs = [s for s in wanted if s in icons]
    distractors = [s for s in split.distractors if s in icons and s not in refs]
    if not refs:
        ap.error(f"none of the brands {wanted} is in simple-icons {_simple_icons_version()}")
    hard_frac = args.hard_frac if args.hard_frac is not None else (1.0 if args.hard else 0.0)
    titles = {s: icons[s]["title"] for s in refs + distractors}
    fps = args.fps
    n_frames = int(round(args.duration * fps))
    logo_end = max(0, n_frames - int(round(args.logo_free_s * fps)))

    rng = np.random.default_rng(args.seed)
    shots = plan_shots(rng, split.photos, n_frames, fps)
    apps, reserved = plan_appearances(rng, refs, distractors, titles, n_frames, logo_end, fps, hard_frac)
    if logo_end < n_frames:
        reserved.append((round(logo_end / fps, 3), round(n_frames / fps, 3)))

    args.out.mkdir(parents=True, exist_ok=True)
    write_references(args.out, refs)
    render_rng = np.random.default_rng([args.seed, 1])
    bank = render_rng.standard_normal((H + 32, W + 32, 4), dtype=np.float32)
    proc = None if args.no_video else _ffmpeg(args.out, fps, n_frames / fps, args.crf, args.preset)
    counts = np.zeros(n_frames, np.int32)
    try:
        for f in range(n_frames):
            live = [s for s in shots if s.f0 <= f < s.f1]
            shot = live[-1]
            image = shot.render(f)
            if len(live) > 1:  # crossfade from the previous shot
                k = (f - shot.f0 + 1) / (shot.fade + 1)
                image = cv2.addWeighted(live[-2].render(f), 1 - k, image, k, 0)
            for a in apps:
                if a.f0 <= f < a.f1:
                    entry = draw(image, a, f)
                    if entry is not None:
                        entry["t"] = round(f / fps, 5)
                        a.frames.append(entry)
                        counts[f] += 1
            dy, dx = render_rng.integers(0, 33, 2)
            up, down = shot.grain(bank)
            cv2.add(image, up[dy : dy + H, dx : dx + W], dst=image)
            cv2.subtract(image, down[dy : dy + H, dx : dx + W], dst=image)
            if proc is not None:
                proc.stdin.write(image.data)
            for s in shots:  # drop finished shots' photo, lighting and noise, and still logos
                if s.f1 <= f + 1:
                    s._cache.clear()
            for a in apps:
                if a.f1 <= f + 1:
                    a._still = None
    finally:
        if proc is not None:
            proc.stdin.close()
            rc = proc.wait()
            log = args.out / "ffmpeg.log"
            if rc:
                sys.stderr.write(log.read_text())
                raise SystemExit(f"ffmpeg failed ({rc})")
            if not log.stat().st_size:
                log.unlink()

    apps = [a for a in apps if a.frames]
    for i, a in enumerate(apps):
        a.id = i
    distractor_set = set(distractors)
    truth = {
        "schema_version": 1,
        "generator": "bench/logos/make_stream.py",
        "seed": args.seed,
        "split": split.name,
        "hard": bool(args.hard),
        "hard_frac": hard_frac,
        "video": "video.flv",
        "flv": "video.flv",
        "width": W,
        "height": H,
        "fps": fps,
        "n_frames": n_frames,
        "duration_s": round(n_frames / fps, 5),
        "simple_icons_version": _simple_icons_version(),
        "encoding": {
            "video": f"libx264 preset={args.preset} crf={args.crf} yuv420p high gop={int(round(2 * fps))} bframes=0",
            "audio": "aac 128k, 440 Hz sine",
        },
        "definitions": DEFINITIONS,
        "reference_brands": [
            {"slug": s, "title": titles[s], "hex": _brand_hex()[s], "reference_image": f"reference/{s}.png"}
            for s in refs
        ],
        "distractor_brands": distractors,
        "missing_brands": [s for s in wanted if s not in icons],
        "missing_distractors": [s for s in split.distractors if s not in icons],
        "backgrounds": [
            {"name": s.name, "frame_start": s.f0 + s.fade, "frame_end": s.f1,
             "t_start": round((s.f0 + s.fade) / fps, 4), "t_end": round(s.f1 / fps, 4), "crossfade_frames": s.fade,
             "zoom": [round(z, 3) for z in s.zoom]} for s in shots
        ],
        "reserved_logo_free_s": [list(r) for r in reserved],
        "logo_free_tail_s": round((n_frames - logo_end) / fps, 4),
        "stats": {
            "frames_with_0_logos": int((counts == 0).sum()),
            "frames_with_1_logo": int((counts == 1).sum()),
            "frames_with_2_logos": int((counts == 2).sum()),
            "logo_free_intervals_s": _intervals(counts == 0, fps),
            "appearances": len(apps),
            "distractor_appearances": sum(a.distractor for a in apps),
        },
        "per_brand": per_brand_stats(apps, refs, distractor_set, fps),
        "appearances": [
            {"id": a.id, "brand": a.brand, "title": a.title, "distractor": a.distractor,
             "t_start": round(a.frames[0]["f"] / fps, 5), "t_end": round((a.frames[-1]["f"] + 1) / fps, 5),
             "frame_start": a.frames[0]["f"], "frame_end": a.frames[-1]["f"] + 1, "params": a.params(),
             "frames": a.frames} for a in apps
        ],
    }  # fmt: skip
    (args.out / "truth.json").write_text(json.dumps(truth))
    shown = sum(1 for s in refs if truth["per_brand"][s]["frames"])
    print(f"make_stream: {args.out}: {n_frames / fps:.1f} s, {len(apps)} appearances "
          f"({truth['stats']['distractor_appearances']} distractor), {shown}/{len(refs)} reference brands shown, "
          f"{time.time() - t_begin:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
