"""Brand logos found by their reference images (uploaded per brand, no training by the
user): silhouette proposals (`logo_shapes`), then each brand's verifier (`logo_verifier`),
built from its references in seconds and kept per process. Light enough for realtime mode."""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import Field

from ai_processing.analyzers.base import (
    LOGOS_BEFORE_MAX_GAP_S,
    NO_CONTEXT,
    Analyzer,
    AnalyzerSettings,
    Box,
    Context,
    CorrectedLogo,
    Finding,
    Frame,
    Kind,
    LogoReference,
    SeenLogo,
    StoredVerifier,
)
from ai_processing.analyzers.logo_corrections import (
    NEGATIVE,
    NO_CORRECTIONS,
    POSITIVE,
    Corrections,
    Crop,
    crop_features,
    crop_read,
)
from ai_processing.analyzers.logo_shapes import (
    LogoTemplate,
    Proposal,
    cut_by_edge,
    overlapping,
    proposals,
    suppressed,
    template_build,
    work_lab,
)
from ai_processing.analyzers.logo_verifier import (
    MIN_PROPOSAL,
    Verifier,
    cutout,
    features,
    verifier_build,
    verifier_cached,
    verifier_shared,
)

logger = logging.getLogger(__name__)
KEY = "logos"
MIN_PROBABILITY = 0.8  # the verifier's; tuned on the dev split of bench/logos
# A reversed print (a white logo on a dark or brand-coloured plate) is judged by its
# silhouette alone (the verifiers learn printed colours). Dev split, 150 frames where every
# logo is reversed, mono, curved, occluded or blurred: at 0.85, 21 true findings and 1 false
# (0.8: 23 and 3; 0.7: 23 and 17); 200 ordinary frames: 4 and 0 (0.8: 4 and 1).
REVERSED_MIN_SILHOUETTE = 0.85
# A logo the verifier doubts (0.6-0.8) counts when the frame before (at most
# LOGOS_BEFORE_MAX_GAP_S earlier) showed the same brand close by, surely or doubted: a logo
# stays on screen while most chance matches do not. Dev split streams (make_stream, 2 fps,
# bench/logos/stream_candidates.py): recall 0.804 -> 0.866, 0.565 -> 0.618 with every logo
# hard, 0.755 -> 0.796 with a fifth hard and 20 s logo-free, no false detection more. At 0.5,
# the last gave 10 false detections (a still background holds its chance matches too); a
# silhouette bar of 0.6 gained 2 points more on the hard stream but confirmed the coffee
# photo's red saucer as Coca-Cola. With no frame before (a still image, a cut) nothing changes.
DOUBTED_MIN_PROBABILITY = 0.6
# A small logo (longer side under SMALL_LOGO_PX in the frame) is confirmed only from a
# verifier probability of SMALL_DOUBTED_MIN_PROBABILITY: a small dark blob of a still background
# repeats from frame to frame like a logo. Dev split, streams 901-905 (two new ones with a fifth
# hard and 20 s logo-free): false detections 18 -> 13, the same 291 true ones (a 48 px floor
# on confirmation instead lost 6 of 84 on the plain stream).
SMALL_LOGO_PX = 60
SMALL_DOUBTED_MIN_PROBABILITY = 0.7
# A finding that holds nearly all of a surer one (of any brand) is the card or plate that logo
# is printed on: dev split, UPS's brown shield found around GitHub's reversed print, 13 -> 9
# false detections, no true one lost.
HOLDS_SURER = 0.8
NEAR_SHIFT = 0.5  # of the larger box's longer side, between the two boxes' centres
NEAR_SIZE_RATIO = 1.5
GAP_TOLERANCE_S = 1e-3  # pts are sums of floats: at 1 fps the gap is 1 s give or take
CACHED = 512
MIN_REFERENCE_SIDE = 32  # px
MAX_REFERENCE_PIXELS = 25_000_000  # as on upload (api.brands): also bounds references stored before that check


class LogosAnalyzer(Analyzer):
    key = KEY
    kinds = (Kind("logo", "Logos", "#f472b6"),)
    reads_context = True  # the stored verifiers, reference images and corrections

    class Settings(AnalyzerSettings):
        min_probability: float = Field(
            MIN_PROBABILITY, ge=0, le=1, description="the brand verifier's probability a finding needs"
        )
        doubted_min_probability: float = Field(
            DOUBTED_MIN_PROBABILITY,
            ge=0,
            le=1,
            description="a doubted finding's, confirmed by the same brand close by in the frame before",
        )

    settings: Settings

    def load(self) -> None:
        self._templates: OrderedDict[str, tuple[LogoTemplate, np.ndarray] | None] = OrderedDict()
        self._lock = threading.Lock()
        self._corrected: OrderedDict[tuple, np.ndarray | None] = OrderedDict()  # correction features

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        stored = {verifier.brand_id: verifier for verifier in context.verifiers}
        brands = self._brands(context, stored)
        if not brands:
            return [[] for _ in frames]
        corrections = self._corrections(context.logo_corrections, brands)
        found = []
        for frame in frames:
            findings, context.logos_before[:] = self._found(frame, brands, corrections, context.logos_before)
            found.append(findings)
        return found

    def _found(self, frame: Frame, brands: dict[int, tuple[list[LogoTemplate], Verifier]],
               corrections: Corrections = NO_CORRECTIONS, seen_before: Sequence[SeenLogo] = ()
               ) -> tuple[list[Finding], list[SeenLogo]]:  # fmt: skip
        """The frame's logos, and those it showed surely or nearly (for the frame after)."""
        lab, scale = work_lab(frame.image)
        templates = [template for found, _ in brands.values() for template in found]
        judged, doubted, rejected = [], [], []
        print_bars = {brand_id: verifier.print_bar for brand_id, (_, verifier) in brands.items()}
        for proposal in proposals(lab, templates, corrections.floor(), REVERSED_MIN_SILHOUETTE, print_bars):
            if cut_by_edge(proposal.box, lab.shape):
                continue
            if proposal.printed:  # the verifiers learn printed colours: a print goes by its shape
                judged.append((proposal.score, proposal, {"printed": proposal.printed}))  # proposals() applied its bar
                continue
            if proposal.score < MIN_PROPOSAL and not corrections.wanted(proposal.template.brand_id):
                continue
            probability, why = self._verified(lab, proposal, brands, corrections)
            correction = why.get("correction", {}).get("kind")
            if correction == NEGATIVE:
                rejected.append(proposal)
            elif probability >= self.settings.min_probability and (
                proposal.score >= MIN_PROPOSAL or correction == POSITIVE
            ):
                judged.append((probability, proposal, why))
            elif probability >= self.settings.doubted_min_probability and proposal.score >= MIN_PROPOSAL:
                doubted.append((probability, proposal, why))
        # "Not this brand" is about a place: the same region seen in another colour box (its
        # mask, so its features, a little different) is rejected with it.
        judged, doubted = (
            [pair for pair in pairs if not _rejected_there(pair[1], rejected)] for pairs in (judged, doubted)
        )
        height, width = frame.image.shape[:2]
        placed = _Placed(scale, width, height)
        before = [seen for seen in seen_before if 0 < frame.pts - seen.pts <= LOGOS_BEFORE_MAX_GAP_S + GAP_TOLERANCE_S]
        judged += [
            (probability, proposal, {**why, "confirmed_by": "frame before"})
            for probability, proposal, why in doubted
            if _confirmed(probability, placed.box(proposal), proposal.template.brand_id, before, width, height)
        ]
        judged.sort(key=lambda pair: -pair[0])
        kept = suppressed(judged, lambda pair: pair[1].box, holds=HOLDS_SURER)
        seen = [
            SeenLogo(proposal.template.brand_id, frame.pts, placed.box(proposal)) for _, proposal, _ in kept + doubted
        ]
        return [
            Finding(
                "logo",
                proposal.template.label,
                round(probability, 4),
                placed.box(proposal),
                {
                    "brand_id": proposal.template.brand_id,
                    "source": "logo",
                    "why": {
                        "silhouette": round(proposal.score, 3),
                        "reference": proposal.template.reference,
                        **({"colour_box": proposal.widened} if proposal.widened != 1 else {}),
                        **why,
                    },
                },
            )  # fmt: skip
            for probability, proposal, why in kept
        ], seen

    @staticmethod
    def _verified(lab: np.ndarray, proposal, brands: dict, corrections: Corrections) -> tuple[float, dict]:
        brand_id = proposal.template.brand_id
        verifier = brands[brand_id][1]
        vector = features(lab, proposal)
        probability, why = corrections.judged(brand_id, verifier, vector, float(verifier.probabilities(vector)))
        return probability, {"verifier": round(probability, 3), **({"correction": why} if why else {})}

    def _brands(self, context: Context, stored: dict[int, StoredVerifier]):
        """Per brand: its usable templates and its verifier: the one built on upload when it
        was built from these references, else one built here, once per set of references.
        A brand whose verifier a live job cannot have yet is named in the context."""
        by_brand: dict[int, list[LogoReference]] = defaultdict(list)
        for reference in context.logos:
            by_brand[reference.brand_id].append(reference)
        fixes: dict[int, list[CorrectedLogo]] = defaultdict(list)
        for correction in context.logo_corrections:
            fixes[correction.brand_id].append(correction)
        brands = {}
        for brand_id, refs in by_brand.items():
            built = [found for found in map(self._template, refs) if found is not None]
            key = verifier_key((ref.key for ref in refs), (fix.key for fix in fixes[brand_id]))
            verifier = (
                self._verifier(key, built, stored.get(brand_id), context.complete, fixes[brand_id]) if built else None
            )
            if verifier is not None:
                brands[brand_id] = ([t for t, _ in built], verifier)
            elif built:
                context.awaiting_verifiers.add(brand_id)
        return brands

    def _verifier(self, key: str, built: list, stored: StoredVerifier | None, complete: bool,
                  fixes: Sequence[CorrectedLogo] = ()) -> Verifier | None:  # fmt: skip
        """The brand's verifier: the stored one when it names these references, else one
        this process builds for a `complete` job (batch, or a recheck). A live job never
        builds one: it awaits the stored one, and its segment is checked again then. A stored
        one built before the latest corrections still serves (they apply by similarity)
        until its rebuild is stored."""
        if stored is not None and _same_references(stored.key, key):
            return verifier_shared(stored.key, lambda: Verifier.from_bytes(stored.read()))
        return verifier_shared(key, lambda: _verifier_build(built, fixes)) if complete else verifier_cached(key)

    def _corrections(self, fixes: Sequence[CorrectedLogo], brands: dict) -> Corrections:
        """The feature vectors of the corrections of the brands looked for (cached, LRU)."""
        corrections = Corrections()
        for fix in fixes:
            if fix.brand_id in brands:
                vector = self._correction_vector(fix, brands[fix.brand_id][0])
                if vector is not None:
                    kind = corrections.negatives if fix.kind == NEGATIVE else corrections.positives
                    kind.setdefault(fix.brand_id, []).append(vector)
        return corrections

    def _correction_vector(self, fix: CorrectedLogo, templates: list[LogoTemplate]) -> np.ndarray | None:
        key = (fix.key, *sorted(template.reference for template in templates))  # features depend on the templates
        with self._lock:
            if key in self._corrected:
                return self._corrected[key]
        try:
            vector = crop_features(Crop(crop_read(fix.read()), fix.box), fix.kind, templates)
        except (OSError, UnidentifiedImageError) as exc:
            logger.warning("logo correction %s unreadable: %s", fix.key, exc)
            vector = None
        return _cached(self._lock, self._corrected, key, vector)

    def _template(self, reference: LogoReference) -> tuple[LogoTemplate, np.ndarray] | None:
        """Built once per reference image and kept (LRU): jobs share this process's cache."""
        with self._lock:
            if reference.key in self._templates:
                self._templates.move_to_end(reference.key)
                return self._templates[reference.key]
        return _cached(self._lock, self._templates, reference.key, _template_build(reference))


@dataclass(frozen=True)
class _Placed:
    """Places a proposal's box (working scale) in the frame, normalised."""

    scale: float
    width: int
    height: int

    def box(self, proposal: Proposal) -> Box:
        x, y, w, h = (value / self.scale for value in proposal.box)
        return Box(x / self.width, y / self.height, w / self.width, h / self.height)


def _confirmed(probability: float, box: Box, brand_id: int, before: list[SeenLogo], width: int, height: int) -> bool:
    """A doubted logo counts when the frame before showed it close by (a small one, surer)."""
    small = max(box.w * width, box.h * height) < SMALL_LOGO_PX
    if small and probability < SMALL_DOUBTED_MIN_PROBABILITY:
        return False
    return _seen_near(brand_id, box, before, width, height)


def _seen_near(brand_id: int, box: Box, before: list[SeenLogo], width: int, height: int) -> bool:
    """Whether a logo of the brand was seen close to `box`, at about its size."""
    return any(seen.brand_id == brand_id and _near(box, seen.box, width, height) for seen in before)


def _near(a: Box, b: Box, width: int, height: int) -> bool:
    side_a, side_b = max(a.w * width, a.h * height), max(b.w * width, b.h * height)
    if not side_a or not side_b or not 1 / NEAR_SIZE_RATIO <= side_a / side_b <= NEAR_SIZE_RATIO:
        return False
    shift = np.hypot((a.x + a.w / 2 - b.x - b.w / 2) * width, (a.y + a.h / 2 - b.y - b.h / 2) * height)
    return bool(shift <= NEAR_SHIFT * max(side_a, side_b))


def _rejected_there(proposal: Proposal, rejected: list[Proposal]) -> bool:
    brand_id = proposal.template.brand_id
    return any(other.template.brand_id == brand_id and overlapping(proposal.box, other.box) for other in rejected)


def _verifier_build(built: list[tuple[LogoTemplate, np.ndarray]], fixes: Sequence[CorrectedLogo] = ()) -> Verifier:
    crops = [(fix.kind, (crop_read(fix.read()), fix.box)) for fix in fixes]
    verifier = verifier_build([t for t, _ in built], [c for _, c in built],
                              negatives=[crop for kind, crop in crops if kind == NEGATIVE],
                              positives=[crop for kind, crop in crops if kind != NEGATIVE])  # fmt: skip
    logger.info("logo verifier for %s built in %.1f s (self-test P %.2f R %.2f)", built[0][0].label,
                verifier.seconds, verifier.precision, verifier.recall)  # fmt: skip
    return verifier


CORRECTIONS_KEY = "\n+corrections:"  # separates a verifier key's corrections from its references


def verifier_key(reference_keys, correction_keys=()) -> str:
    """Names the set of reference images a verifier is built from, and the corrections."""
    key, corrections = "|".join(sorted(reference_keys)), sorted(correction_keys)
    return f"{key}{CORRECTIONS_KEY}{'|'.join(corrections)}" if corrections else key


def _same_references(stored_key: str, key: str) -> bool:
    return stored_key.split(CORRECTIONS_KEY)[0] == key.split(CORRECTIONS_KEY)[0]


@dataclass(frozen=True)
class BrandVerifier:
    key: str
    verifier: Verifier | None  # None when no reference image is usable
    warnings: list[str]


def brand_verifier_build(
    references: Sequence[LogoReference], corrections: Sequence[CorrectedLogo] = ()
) -> BrandVerifier:
    """The verifier of one brand's references and corrections, and a warning for each
    reference it cannot use."""
    built: list[tuple[LogoTemplate, np.ndarray]] = []
    warnings: list[str] = []
    for number, reference in enumerate(references, 1):
        found = _template_build(reference)
        problem = _unusable(found)
        if problem or found is None:
            warnings.append(f"reference image {number}: {problem}")
        else:
            built.append(found)
    key = verifier_key((ref.key for ref in references), (fix.key for fix in corrections))
    if not built:
        return BrandVerifier(key, None, warnings)
    return BrandVerifier(key, verifier_shared(key, lambda: _verifier_build(built, corrections)), warnings)


def _unusable(found: tuple[LogoTemplate, np.ndarray] | None) -> str:
    if found is None:
        return "no logo found in it (or unreadable)"
    template, cut = found
    if max(cut.shape[:2]) < MIN_REFERENCE_SIDE:
        return f"the logo is under {MIN_REFERENCE_SIDE} px: upload a larger image"
    if template.views[0].shape.solidity > 0.97 and (cut[..., 3] > 0).mean() > 0.95:
        return "it shows a plain rectangle, not a logo: upload the logo on a plain background"
    return ""


def _cached(lock: threading.Lock, cache: OrderedDict, key, value):
    with lock:
        cache[key] = value
        while len(cache) > CACHED:
            cache.popitem(last=False)
    return value


def _template_build(reference: LogoReference) -> tuple[LogoTemplate, np.ndarray] | None:
    try:
        with Image.open(io.BytesIO(reference.read())) as opened:  # reads the header only
            if opened.width * opened.height > MAX_REFERENCE_PIXELS:
                raise OSError(f"{opened.width}x{opened.height} px is over {MAX_REFERENCE_PIXELS} pixels")
            image = np.asarray(opened.convert("RGBA"))
    except (OSError, UnidentifiedImageError) as exc:
        logger.warning("reference image %s of brand %s unreadable: %s", reference.key, reference.brand_name, exc)
        return None
    template = template_build(reference.brand_id, reference.brand_name, image, reference.key)
    if template is None:
        logger.warning("reference image %s of brand %s shows no logo; ignored", reference.key, reference.brand_name)
        return None
    return template, cutout(image)
