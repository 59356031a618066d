"""Finding flat logos by colour and silhouette, from reference images, with no training.

Corner features fail on flat logos (SIFT finds a handful of keypoints on a swoosh), but
a brand logo keeps two things through scale, rotation, blur and compression: its colours
and its outline. So a reference becomes a `LogoTemplate`: its dominant Lab colours and its
silhouette, normalised for position and scale and pre-rotated across the expected angles.
In a frame, the pixels near those colours are grouped into regions (at a few joining
distances, so a word mark's letters join into one region); each region's silhouette,
normalised the same way, is compared with the template's by correlation.

This module proposes: it finds the regions that could be a brand's logo and scores their
silhouettes. Whether a proposal is the logo is for the brand's verifier (`logo_verifier`).
Reversed and mono prints (a white logo on a dark plate, or on one in the brand's colour)
are proposed as the holes of the plate: a nearly convex dark or brand-coloured region
whose holes take a logo's share of it (`_in_plates`). Near-white and near-black regions
proposed for every brand gave 280 false proposals for each true one on the dev split.
The rotation left after whitening is read off the angular mass profiles by one circular
correlation, so only the best few rotations are compared pixel by pixel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

CANVAS = 64  # side of the square on which silhouettes are compared
# Whitening leaves an unknown rotation, even for an upright logo: try all of them.
ANGLES = np.arange(0, 360, 6)
WORK_HEIGHT = 540  # px: frames are reduced to this; a 64 px logo in 1080p keeps 32 px
TEMPLATE_SIDE = 160  # px: references are reduced to this before their silhouette is taken
COLOUR_TOLERANCE = 22.0  # Lab distance (8-bit Lab units) from the background, in references
# Per channel (L, a, b) around each logo colour, in 8-bit Lab units: lightness varies with
# the scene's lighting far more than hue does.
COLOUR_BOX = np.array([32.0, 20.0, 20.0])
# A saturated colour keeps its hue through blur and plates but not its lightness (a blurred
# stroke on white is its colour half mixed with white): its lightness range is wider.
SATURATED_CHROMA = 24.0
SATURATED_COLOUR_BOX = np.array([56.0, 20.0, 20.0])  # dev split: recall 0.600 -> 0.639, FP/min 0.0 -> 0.4
# A blurred stroke is its colour mixed with its surround, and a colour cast or dim light
# moves a whole logo: each colour is looked for again in a box 1.6 times as wide. Dev split:
# recall 0.652 -> 0.761, precision 0.982 -> 0.954, cost about doubled; 1.35 gave P 0.924 R 0.742,
# the wider box alone P 0.944 R 0.710, and 1.6 with 2.2 P 0.912 R 0.800.
WIDER_COLOUR_BOXES = (1.6,)
JOIN_DISTANCES = (1, 4, 9, 16)  # px at working scale; joins a word mark's letters
SOFTEN = 1.5  # px of blur on the canvas: thin strokes still overlap when slightly off
SHIFT = 2  # px of canvas searched around the centroid
MAX_SOLIDITY_GAP = 0.25
MAX_RADIUS_RATIO = 1.25
MIN_SIDE = 16  # px at working scale: smaller regions hold too little shape to judge
# px at working scale, the longer side: a 64 px logo in a 720p frame keeps 45 px through
# rotation and perspective. Below it a blob's outline passes for a simple mark's (dark
# blobs were Wikipedia's "W" at 0.9-0.99 on the dev split, 9 per minute).
MIN_LONG_SIDE = 32
MAX_REGIONS = 24  # per colour mask and joining distance, largest first: bounds the work
SMALL_VIEW_SIDE = 56  # px: the reference as a logo this size (at working scale) shows it
BACKDROPS = ((255, 255, 255), (0, 0, 0), (128, 128, 128))  # a small view's cut-outs show one of these
PROFILE_BINS = 60  # angular mass profile: one bin per ANGLES step
ROTATIONS_TRIED = 2  # best profile correlations compared pixel by pixel
MIN_PROFILE_CORRELATION = 0.6  # below it no rotation can match: skip the pixel comparison
# Reversed prints: the logo as the holes of a plate, near black or in the brand's colour.
DARK_PLATE_LIGHTNESS = 64  # 8-bit Lab L: at most this is a dark plate's pixel
MAX_PLATES = 8  # per plate mask, largest first
LOOSE_HOLE_JOIN = 4  # px at working scale: the holes of a dark region that is no card, joined
# A dark plate's holes are compared with every brand's logo, a coloured one's with one brand's:
# with 20 brands, 20 times the chances of a chance match, so a dark plate needs a higher score.
DARK_PLATE_EXTRA_SCORE = 0.05
MIN_PLATE_SOLIDITY = 0.85  # a plate, holes filled, is a card, a sign or a can's band: nearly convex
PLATE_HOLE_SHARE = (0.04, 0.7)  # of the filled plate: less is specks, more is no plate
MAX_HOLES_BOX_SHARE = 0.7  # of the plate's box: a starfield's holes spread over all of it
# A view this solid (HP's disc, as a small logo shows it) is any round hole: the moon in a
# night sky was HP at 0.99 on the dev split. Only views with an outline of their own are
# looked for in plates.
MAX_PLATE_VIEW_SOLIDITY = 0.9
# A reversed print is white: its holes are near white (8-bit Lab L), or at least this much
# lighter or darker than the card. On the dev split a print's holes were 100 or more apart
# from a dark card; a dark natural region's holes were its own mid-grey texture, 40-60 apart.
# A white print on a light brand colour (Spotify's green) is only 57 apart, but white.
MIN_PLATE_CONTRAST = 60
WHITE_PRINT_LIGHTNESS = 200
# Mono prints: a brand in colour printed black (a black logo on a poster, a van, a shirt).
# The near-black regions of the frame are compared with every brand not black itself, by
# silhouette alone, at a bar each brand's verifier sets from the bundled photos' own
# near-black regions (`logo_verifier.print_bar`). Dev split, 100 frames where every logo is
# reversed, mono, curved, occluded or blurred: at a fixed 0.9, 19 more logos found and 6
# false (BMW's roundel: 0.91 on a natural region), 8 false in a minute without logos.
DARK_PRINT_MIN_SCORE = 0.9


@dataclass(frozen=True)
class Shape:
    """A silhouette's affine-invariant description: `whiten` maps its pixels to zero mean
    and unit covariance, so any view of a flat logo (scale, rotation, shear, mild
    perspective) leaves only a rotation between two whitened silhouettes."""

    centre: np.ndarray  # 2, pixels
    whiten: np.ndarray  # 2 x 2
    radius: float  # farthest whitened pixel from the centre
    solidity: float  # area / convex hull area


@dataclass(frozen=True)
class View:
    """A logo's silhouette as seen at some size: fine detail (letters inside a frame)
    is lost when a logo is small, so a small region is also compared with a small view."""

    shape: Shape
    silhouettes: np.ndarray  # len(ANGLES) x (CANVAS + 2 SHIFT) squared, softened, float32
    max_side: float  # px at working scale: regions up to this size are compared with it
    spectrum: np.ndarray  # conjugate FFT of the upright silhouette's angular mass profile


@dataclass(frozen=True)
class Candidate:
    """A region compared with templates: its pixels and its shape."""

    pixels: np.ndarray  # bool, cropped to the region's box
    shape: Shape

    @property
    def side(self) -> int:
        return max(self.pixels.shape)


def candidate(pixels: np.ndarray) -> Candidate | None:
    """The region as a candidate, or None when it has no shape to compare (too small, a line)."""
    shape = _shape(pixels)
    return None if shape is None else Candidate(pixels, shape)


@dataclass(frozen=True)
class LogoTemplate:
    brand_id: int
    label: str
    colours: np.ndarray  # k x 3 Lab, float32
    views: tuple[View, ...]
    reference: str = ""  # names the reference image it was built from


@dataclass(frozen=True)
class LogoMatch:
    brand_id: int
    label: str
    score: float  # silhouette correlation, 0..1
    box: tuple[float, float, float, float]  # x, y, w, h in pixels of the frame


@dataclass(frozen=True)
class Proposal:
    """A region that may be a template's logo, at working scale."""

    template: LogoTemplate
    score: float  # silhouette correlation, 0..1
    box: tuple[int, int, int, int]  # x, y, w, h px at working scale
    region: np.ndarray  # bool, the region's pixels cropped to its box
    # How it is printed when not in its colours: "reversed", the holes of a plate (a white
    # print on a dark or coloured plate); "mono", a near-black region (a black print).
    printed: str = ""
    widened: float = 1.0  # the colour box it was found in (WIDER_COLOUR_BOXES), 1 for the standard one


def template_build(brand_id: int, label: str, image: np.ndarray, reference: str = "") -> LogoTemplate | None:
    """A template from an RGB or RGBA reference, or None when it shows no logo.
    Transparent pixels, or pixels like the border's colour, are background."""
    image = _fitted(image, TEMPLATE_SIDE)
    logo = foreground(image)
    if logo.sum() < 64:
        return None
    lab = _lab(image[..., :3])
    colours = _dominant_colours(lab[_core(logo)])
    full = _view((_near(lab, colours) & logo).astype(np.uint8), np.inf)
    if full is None:
        return None
    small = _small_view(image, colours)
    return LogoTemplate(brand_id, label, colours, (full,) if small is None else (full, small), reference)


def _core(logo: np.ndarray) -> np.ndarray:
    """The logo's pixels away from its edges, where they are thick enough to have any: edge
    pixels mix the logo with its background (more so in a JPEG), and could make up a
    "colour" of their own (an IKEA reference's blue and pale mix became one, and every pale
    oval in a photo an IKEA logo)."""
    core = cv2.erode(logo.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return core if core.sum() >= 0.3 * logo.sum() else logo


def foreground(image: np.ndarray) -> np.ndarray:
    if image.shape[2] == 4 and (image[..., 3] < 128).any():
        return image[..., 3] >= 128
    lab = _lab(image[..., :3])
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    return np.linalg.norm(lab - np.median(border, axis=0), axis=2) > COLOUR_TOLERANCE * 1.5


def _small_view(image: np.ndarray, colours: np.ndarray) -> View | None:
    """The reference as a small logo looks: reduced, its cut-outs blended with a backdrop
    far from its colours, softened; only what keeps the logo's colours stays."""
    small = _fitted(image, SMALL_VIEW_SIDE)
    rgb: np.ndarray = small[..., :3].astype(np.float32)
    if small.shape[2] == 4:
        backdrop = max(BACKDROPS, key=lambda candidate: _distance_to(candidate, colours))
        alpha = small[..., 3:].astype(np.float32) / 255
        rgb = rgb * alpha + np.array(backdrop, np.float32) * (1 - alpha)
    rgb = np.asarray(cv2.GaussianBlur(rgb.clip(0, 255).astype(np.uint8), (0, 0), 0.8))
    mask = _near(_lab(rgb), colours).astype(np.uint8)
    return _view(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)), SMALL_VIEW_SIDE * 1.6)


def _distance_to(rgb: tuple[int, int, int], colours: np.ndarray) -> float:
    """How far a colour is from the nearest logo colour, per Lab channel."""
    return float(np.abs(_lab(np.full((1, 1, 3), rgb, np.uint8))[0, 0] - colours).min())


def _view(mask: np.ndarray, max_side: float) -> View | None:
    shape = _shape(mask)
    if shape is None:
        return None
    upright = _soft(_normalised(mask, shape, shape.radius, 0.0))
    silhouettes = [_padded(_soft(_normalised(mask, shape, shape.radius, float(angle)))) for angle in ANGLES]
    return View(shape, np.stack(silhouettes), max_side, np.conj(np.fft.rfft(_profile(upright))))


def _profile(canvas: np.ndarray) -> np.ndarray:
    """Mass per angle around the canvas centre, weighted by radius (the outline counts most)."""
    weights = canvas.ravel() * _RADIUS
    profile = np.bincount(_ANGLE_BIN, weights=weights, minlength=PROFILE_BINS)
    profile = profile - profile.mean()
    return profile / max(float(np.linalg.norm(profile)), 1e-9)


_YS, _XS = np.mgrid[0:CANVAS, 0:CANVAS] - (CANVAS / 2 - 0.5)
_RADIUS = np.hypot(_XS, _YS).ravel()
_ANGLE_BIN = ((np.arctan2(_YS, _XS).ravel() % (2 * np.pi)) / (2 * np.pi) * PROFILE_BINS).astype(int) % PROFILE_BINS


def work_lab(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The frame in Lab at working scale, and that scale."""
    scale = min(1.0, WORK_HEIGHT / image.shape[0])
    return _lab(_fitted(image, round(max(image.shape[:2]) * scale))), scale


def work_rgb(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The frame at working scale, still RGB, and that scale (corrections crop from it)."""
    scale = min(1.0, WORK_HEIGHT / image.shape[0])
    return _fitted(image, round(max(image.shape[:2]) * scale)), scale


def proposals(lab: np.ndarray, templates: list[LogoTemplate], min_score: float,
              reversed_min_score: float | None = None, print_bars: Mapping[int, float] | None = None
              ) -> list[Proposal]:  # fmt: skip
    """Regions of a working-scale Lab frame whose silhouette matches a template, among the
    template's colour pixels. Masks and regions are shared by the templates of one colour.
    With `reversed_min_score`, also the reversed prints (`_in_plates`) scoring that; with
    `print_bars` (per brand id), the black prints of brands in colour (`_dark_prints`)."""
    masks: dict[tuple, list[LogoTemplate]] = {}
    for template in templates:
        masks.setdefault(tuple(np.round(template.colours.ravel() / 4)), []).append(template)
    found = []
    for group in masks.values():
        mask = _near(lab, group[0].colours)
        found += _proposed(mask, group, min_score)
        for widen in WIDER_COLOUR_BOXES:
            found += _proposed(_near(lab, group[0].colours, widen), group, min_score, widen)
        if reversed_min_score is not None and _saturated(group[0].colours):
            found += _in_plates(mask, lab, group, reversed_min_score)
    if reversed_min_score is not None:
        dark = lab[..., 0] <= DARK_PLATE_LIGHTNESS
        found += _in_plates(dark, lab, templates, reversed_min_score + DARK_PLATE_EXTRA_SCORE, loose=True)
    if print_bars:
        found += _dark_prints(lab, templates, print_bars)
    return found


def dark_regions(lab: np.ndarray):
    """(candidate, box) for the near-black regions of a working-scale Lab frame."""
    dark = (lab[..., 0] <= DARK_PLATE_LIGHTNESS).astype(np.uint8)
    for region, box in _regions(cv2.morphologyEx(dark, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))):
        found = candidate(region)
        if found is not None:
            yield found, box


def in_black(template: LogoTemplate) -> bool:
    """Whether the brand has a near-black colour: its black prints are found in its colours."""
    colours = template.colours
    chroma = np.hypot(colours[:, 1] - 128, colours[:, 2] - 128)
    return bool(((colours[:, 0] <= DARK_PLATE_LIGHTNESS + COLOUR_BOX[0]) & (chroma < SATURATED_CHROMA)).any())


def print_score(region: Candidate, template: LogoTemplate) -> float:
    """A print's silhouette score: only views with an outline of their own (not a disc)."""
    return _score(region, template, [view for view in template.views if view.shape.solidity < MAX_PLATE_VIEW_SOLIDITY])


def _dark_prints(lab: np.ndarray, templates: list[LogoTemplate], bars: Mapping[int, float]) -> list[Proposal]:
    """Black prints of brands in colour: near-black regions scoring their brand's bar."""
    looked_for = [t for t in templates if t.brand_id in bars and bars[t.brand_id] <= 1 and not in_black(t)]
    found: list[Proposal] = []
    if not looked_for:
        return found
    for region, box in dark_regions(lab):
        for template in looked_for:
            score = print_score(region, template)
            if score >= bars[template.brand_id]:
                found.append(Proposal(template, score, box, region.pixels, printed="mono"))
    return found


def _proposed(
    mask: np.ndarray, templates: list[LogoTemplate], min_score: float, widened: float = 1.0
) -> list[Proposal]:
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    found = []
    for pixels, box in _regions(mask):
        region = candidate(pixels)
        if region is None:
            continue
        for template in templates:
            score = _score(region, template)
            if score >= min_score:
                found.append(Proposal(template, score, box, pixels, widened=widened))
    return found


def _saturated(colours: np.ndarray) -> bool:
    return bool(np.hypot(colours[:, 1] - 128, colours[:, 2] - 128).max() >= SATURATED_CHROMA)


def _in_plates(mask: np.ndarray, lab: np.ndarray, templates: list[LogoTemplate], min_score: float,
               loose: bool = False) -> list[Proposal]:  # fmt: skip
    """Reversed and mono prints (a white logo on a dark plate, or on one in the brand's
    colour): the logo is what the plate leaves out. A dark plate can hold any brand's logo,
    a coloured one only its brand's. With `loose`, also each hole of a region that is no card."""
    found = []
    for holes, box in _plate_holes(mask.astype(np.uint8), loose):
        x, y, w, h = box
        region = candidate(holes)
        if region is None or not _printed(lab[y : y + h, x : x + w, 0], holes, mask[y : y + h, x : x + w] > 0):
            continue
        for template in templates:
            score = print_score(region, template)
            if score >= min_score:
                found.append(Proposal(template, score, box, holes, printed="reversed"))
    return found


def _printed(lightness: np.ndarray, holes: np.ndarray, plate: np.ndarray) -> bool:
    """Whether the holes look printed on the card: white, or far from the card's own pixels
    around and inside them in their box (the blurred rim between the two is neither)."""
    inked = float(lightness[holes].mean())
    card = float(lightness[plate].mean()) if plate.any() else inked
    return inked >= WHITE_PRINT_LIGHTNESS or abs(inked - card) >= MIN_PLATE_CONTRAST


def _plate_holes(mask: np.ndarray, loose: bool = False):
    """(the holes of a plate cropped to their box, that box in the frame) for the largest
    nearly convex regions of the mask whose holes take a plausible share and sit inside.
    Plates are large: they are found at half resolution, and only looked into at full.
    With `loose`, a region that is no card (a dark card on a dark background merges with
    it) gives each of its holes alone, letters joined (`_loose_holes`)."""
    count, labels, stats, _ = _labelled(mask[::2, ::2])
    for index in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:MAX_PLATES] + 1:
        x, y, w, h, _ = 2 * stats[index]
        if min(w, h) < MIN_SIDE or max(w, h) < MIN_LONG_SIDE * 1.2:
            continue
        crop = mask[y : y + h + 1, x : x + w + 1]
        inside = np.repeat(np.repeat(labels[y // 2 : (y + h) // 2 + 1, x // 2 : (x + w) // 2 + 1] == index, 2, 0), 2, 1)
        plate = crop & inside[: crop.shape[0], : crop.shape[1]]
        found = _holes(plate, crop)
        if found is not None:
            holes, (left, top, width, height) = found
            yield holes, (x + left, y + top, width, height)
        elif loose:
            yield from _loose_holes(plate, crop, (int(x), int(y)))


def _loose_holes(plate: np.ndarray, colour: np.ndarray, offset: tuple[int, int]):
    """Each hole of a region that is not the region's colour, joined at LOOSE_HOLE_JOIN px.
    Dev split, 100 frames where every logo is reversed, mono, curved, occluded or blurred:
    5 more logos (white prints on dark cards on dark backgrounds), none false at 0.85 or more,
    and none in 150 ordinary frames and a minute without logos."""
    contours, _ = cv2.findContours(plate, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = cv2.drawContours(np.zeros_like(plate), contours, -1, 1, cv2.FILLED) > 0
    holes = (filled & (colour == 0)).astype(np.uint8)
    yield from _components(holes, LOOSE_HOLE_JOIN, offset, set(), holes)


def _holes(plate: np.ndarray, colour: np.ndarray):
    """A plate's holes that are not its colour, cropped, and their box in the plate's crop;
    None unless the plate, filled, is nearly convex and the holes a logo's share of it."""
    contours, _ = cv2.findContours(plate, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    filled = cv2.drawContours(np.zeros_like(plate), contours, -1, 1, cv2.FILLED) > 0
    area = int(filled.sum())
    if area < MIN_PLATE_SOLIDITY * cv2.contourArea(cv2.convexHull(np.concatenate(contours))):
        return None
    holes = filled & (colour == 0)
    if not PLATE_HOLE_SHARE[0] <= holes.sum() / area <= PLATE_HOLE_SHARE[1]:
        return None
    ys, xs = np.nonzero(holes)
    left, top, width, height = int(xs.min()), int(ys.min()), int(np.ptp(xs) + 1), int(np.ptp(ys) + 1)
    if width * height > MAX_HOLES_BOX_SHARE * plate.shape[0] * plate.shape[1] or max(width, height) < MIN_LONG_SIDE:
        return None
    return holes[top : top + height, left : left + width], (left, top, width, height)


def cut_by_edge(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """A region that reaches the frame's edge goes on beyond it: its outline is the frame's
    as much as its own (a saucer's rim cut by the frame passed for Netflix's "N" at 0.82)."""
    x, y, w, h = box
    return x <= 0 or y <= 0 or x + w >= shape[1] or y + h >= shape[0]


def logos_find(image: np.ndarray, templates: list[LogoTemplate], min_score: float) -> list[LogoMatch]:
    """The logos in an RGB frame by silhouette alone, boxes in its pixels, at most one match
    per region (no verifier: what the proposals look like on their own)."""
    lab, scale = work_lab(image)
    matches = [LogoMatch(p.template.brand_id, p.template.label, p.score, (x / scale, y / scale, w / scale, h / scale))
               for p in proposals(lab, templates, min_score) for x, y, w, h in [p.box]]  # fmt: skip
    # Largest first: parts of a logo (one letter, one bull) can pass for the whole.
    return suppressed(sorted(matches, key=lambda m: -m.box[2] * m.box[3]), lambda m: m.box)


def _fitted(image: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)


def _dominant_colours(pixels: np.ndarray, most: int = 3, min_share: float = 0.15) -> np.ndarray:
    k = min(most, len(pixels))
    # k-means++ draws from OpenCV's per-thread RNG: seeded, a reference gives the same colours
    # in every process whatever it built before (unseeded, KFC's red moved by a unit or so).
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    _, labels, centres = cv2.kmeans(pixels.astype(np.float32), k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    shares = np.bincount(labels.ravel(), minlength=k) / len(labels)
    kept: list[np.ndarray] = []
    for index in np.argsort(-shares):  # one colour split in two clusters is one colour
        if shares[index] >= min_share and all(np.abs(centres[index] - other).max() > 8 for other in kept):
            kept.append(centres[index])
    return np.array(kept, np.float32)


def _near(lab: np.ndarray, colours: np.ndarray, widen: float = 1.0) -> np.ndarray:
    """Pixels within the tolerance of any of the colours (times `widen`), per channel (a
    box, which cv2.inRange tests far faster than a sphere)."""
    near = np.zeros(lab.shape[:2], np.uint8)
    for colour in colours:
        box = SATURATED_COLOUR_BOX if np.hypot(colour[1] - 128, colour[2] - 128) >= SATURATED_CHROMA else COLOUR_BOX
        box = box * widen
        low, high = np.clip(colour - box, 0, 255), np.clip(colour + box, 0, 255)
        near |= np.asarray(cv2.inRange(lab, low, high), np.uint8)
    return near > 0


def _regions(mask: np.ndarray):
    """(region mask cropped to its box, box) for each candidate region of the colour mask.
    Labelling the whole frame is the costly step, so it is done once, at the widest
    joining distance and half the resolution; the narrower distances are looked for only
    inside those regions, at full resolution."""
    seen: set[tuple[int, int, int, int]] = set()
    widest = JOIN_DISTANCES[-1]
    half = cv2.dilate(mask, np.ones((widest, widest), np.uint8))[::2, ::2]
    count, labels, stats, _ = _labelled(half)
    for index in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:MAX_REGIONS] + 1:
        x, y, w, h, _ = 2 * stats[index]
        if min(w, h) < MIN_SIDE or max(w, h) < MIN_LONG_SIDE:
            continue
        member = np.repeat(np.repeat(labels[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] == index, 2, 0), 2, 1)
        inside = mask[y : y + h, x : x + w] & member[: min(h, mask.shape[0] - y), : min(w, mask.shape[1] - x)]
        for distance in JOIN_DISTANCES:
            yield from _components(inside, distance, (x, y), seen, mask[y : y + h, x : x + w])


def _labelled(mask: np.ndarray):
    """Connected components with their stats (8-connected). Grana's algorithm: the same
    labels as OpenCV's default, a quarter faster here with stats (opencv 5.0)."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)


def _components(mask: np.ndarray, distance: int, offset: tuple[int, int], seen: set, colour: np.ndarray):
    """The largest connected parts of `mask` once pixels `distance` apart are joined, each
    as (its own pixels cropped to their box, the box offset into the frame), and again with
    the pixels of `colour` (the whole colour mask there) that lie in its holes."""
    joined = cv2.dilate(mask, np.ones((distance, distance), np.uint8)) if distance > 1 else mask
    count, labels, stats, _ = _labelled(joined)
    for index in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:MAX_REGIONS] + 1:
        x, y, w, h, _ = stats[index]
        if min(w, h) < MIN_SIDE or max(w, h) < MIN_LONG_SIDE:
            continue
        crop = mask[y : y + h, x : x + w] & (labels[y : y + h, x : x + w] == index)
        if cv2.countNonZero(crop) < MIN_SIDE * MIN_SIDE / 4:
            continue
        left, top, width, height = cv2.boundingRect(crop)
        left, top = x + left, y + top
        box = (offset[0] + left, offset[1] + top, width, height)
        if max(box[2:]) >= MIN_LONG_SIDE and box not in seen:
            seen.add(box)
            own = crop[top - y : top - y + box[3], left - x : left - x + box[2]]
            yield own, box
            enclosing = _with_enclosed(own, colour[top : top + box[3], left : left + box[2]])
            if enclosing is not None:
                yield enclosing, box


def _with_enclosed(own: np.ndarray, colour: np.ndarray) -> np.ndarray | None:
    """The region with the colour pixels inside its convex hull, when there are more: a
    logo whose letters sit inside a frame (IKEA) is whole only so, however far apart they
    are at this size (the hull, not the holes: blur breaks a thin frame open)."""
    hull = cv2.convexHull(_row_ends(own)).astype(np.int32)
    inside = cv2.fillConvexPoly(np.zeros(own.shape, np.uint8), hull, 1) > 0
    whole = colour.astype(bool) & inside
    return whole if whole.sum() > own.sum() * 1.05 else None


def _score(region: Candidate, template: LogoTemplate, views=None) -> float:
    """The best normalised correlation of the softened, whitened silhouettes over the
    views (the template's, unless given) for the region's size, the likeliest rotations and
    a few pixels of shift; a view whose cheap invariants already disagree scores 0."""
    views = template.views if views is None else views
    return max((_view_score(region, view) for view in views if region.side <= view.max_side), default=0.0)


def _view_score(region: Candidate, view: View) -> float:
    shape = region.shape
    if (
        abs(shape.solidity - view.shape.solidity) > MAX_SOLIDITY_GAP
        or not 1 / MAX_RADIUS_RATIO < shape.radius / view.shape.radius < MAX_RADIUS_RATIO
    ):
        return 0.0
    canvas = _soft(_normalised(region.pixels, shape, view.shape.radius, 0.0))
    # The region is the view turned by some angle: its profile is the view's, shifted.
    correlation = np.fft.irfft(np.fft.rfft(_profile(canvas)) * view.spectrum, PROFILE_BINS)
    if correlation.max() < MIN_PROFILE_CORRELATION:
        return 0.0
    steps = np.argsort(-correlation)[:ROTATIONS_TRIED] * len(ANGLES) // PROFILE_BINS
    return max(float(cv2.matchTemplate(view.silhouettes[step], canvas, cv2.TM_CCOEFF_NORMED).max())
               for step in set(steps.tolist()))  # fmt: skip


def _shape(mask: np.ndarray) -> Shape | None:
    """From the image moments (one pass in C) and the convex hull: the farthest whitened
    pixel of a silhouette is one of its hull's corners."""
    moments = cv2.moments(mask.view(np.uint8) if mask.dtype == bool else mask, binaryImage=True)
    area = moments["m00"]
    if area < 16:
        return None
    centre = np.array([moments["m10"], moments["m01"]]) / area
    covariance = np.array([[moments["mu20"], moments["mu11"]], [moments["mu11"], moments["mu02"]]]) / area
    values, vectors = np.linalg.eigh(covariance)
    if values.min() <= 1e-6:
        return None
    whiten = vectors @ np.diag(values**-0.5) @ vectors.T
    hull = cv2.convexHull(_row_ends(mask))[:, 0]
    radius = float(np.linalg.norm((hull - centre) @ whiten.T, axis=1).max())
    return Shape(centre, whiten, radius, min(1.0, area / max(cv2.contourArea(hull), 1.0)))


def _row_ends(mask: np.ndarray) -> np.ndarray:
    """Each row's first and last pixel: the same convex hull as all the pixels, far fewer points."""
    rows = np.flatnonzero(mask.any(axis=1))
    band = mask[rows].astype(bool)
    first = band.argmax(axis=1)
    last = band.shape[1] - 1 - band[:, ::-1].argmax(axis=1)
    return np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)]).astype(np.float32)


def _normalised(mask: np.ndarray, shape: Shape, radius: float, angle: float) -> np.ndarray:
    """The whitened silhouette, rotated by `angle` degrees, centred on the canvas and
    scaled so a whitened distance of `radius` reaches the canvas edge."""
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    linear = (CANVAS / 2 - 1) / radius * rotation @ shape.whiten
    offset = np.array([CANVAS / 2, CANVAS / 2]) - linear @ shape.centre
    warped = cv2.warpAffine(mask.astype(np.uint8) * 255, np.hstack([linear, offset[:, None]]), (CANVAS, CANVAS))
    return warped >= 128


def _padded(silhouette: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(silhouette, SHIFT, SHIFT, SHIFT, SHIFT, cv2.BORDER_CONSTANT)


def _soft(silhouette: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(silhouette.astype(np.float32), (0, 0), SOFTEN)


def suppressed(matches: list, box_of, overlap: float = 0.5, holds: float = 1.01) -> list:
    """Drops each match that lies mostly (`overlap`) inside one kept before it, or that holds
    nearly all (`holds`) of one kept before it (by default never: a share is at most 1)."""
    kept: list = []
    for match in matches:
        box = box_of(match)
        if all(_covered(box, box_of(other)) < overlap and _covered(box_of(other), box) < holds for other in kept):
            kept.append(match)
    return kept


def overlapping(a, b, share: float = 0.5) -> bool:
    """Whether either box lies mostly (`share`) inside the other."""
    return max(_covered(a, b), _covered(b, a)) >= share


def _covered(a, b) -> float:
    """The share of box `a` inside box `b`."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(a[2] * a[3], 1)
