"""Brand logos found by their reference images (uploaded per brand, no training by the
user): silhouette proposals (`logo_shapes`), then each brand's verifier (`logo_verifier`),
built from its references in seconds and kept per process. Light enough for realtime mode."""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from ai_processing.analyzers.base import NO_CONTEXT, Analyzer, Box, Context, Finding, Frame, LogoReference, StoredVerifier
from ai_processing.analyzers.logo_shapes import LogoTemplate, proposals, suppressed, template_build, work_lab
from ai_processing.analyzers.logo_verifier import MIN_PROPOSAL, Verifier, cutout, features, verifier_build, verifier_cached, verifier_shared

logger = logging.getLogger(__name__)
KEY = "logos"
MIN_PROBABILITY = 0.8  # the verifier's; tuned on the dev split of bench/logos
CACHED = 512
MIN_REFERENCE_SIDE = 32  # px


class LogosAnalyzer(Analyzer):
    key = KEY
    kinds = ("logo",)

    def load(self) -> None:
        self._templates: OrderedDict[str, tuple[LogoTemplate, np.ndarray] | None] = OrderedDict()
        self._lock = threading.Lock()

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        stored = {verifier.brand_id: verifier for verifier in context.verifiers}
        brands = self._brands(context, stored)
        if not brands:
            return [[] for _ in frames]
        return [self._found(frame.image, brands) for frame in frames]

    def _found(self, image: np.ndarray, brands: dict[int, tuple[list[LogoTemplate], Verifier]]) -> list[Finding]:
        lab, scale = work_lab(image)
        templates = [template for found, _ in brands.values() for template in found]
        judged = []
        for proposal in proposals(lab, templates, MIN_PROPOSAL):
            probability = float(brands[proposal.template.brand_id][1].probabilities(features(lab, proposal)))
            if probability >= MIN_PROBABILITY:
                judged.append((probability, proposal))
        judged.sort(key=lambda pair: -pair[0])
        height, width = image.shape[:2]
        return [
            Finding("logo", proposal.template.label, round(probability, 4),
                    Box(x / scale / width, y / scale / height, w / scale / width, h / scale / height),
                    {"brand_id": proposal.template.brand_id, "source": "logo",
                     "why": {"silhouette": round(proposal.score, 3), "verifier": round(probability, 3),
                             "reference": proposal.template.reference}})  # fmt: skip
            for probability, proposal in suppressed(judged, lambda pair: pair[1].box)
            for x, y, w, h in [proposal.box]
        ]

    def _brands(self, context: Context, stored: dict[int, StoredVerifier]):
        """Per brand: its usable templates and its verifier: the one built on upload when it
        was built from these references, else one built here, once per set of references.
        A brand whose verifier a live job cannot have yet is named in the context."""
        by_brand: dict[int, list[LogoReference]] = defaultdict(list)
        for reference in context.logos:
            by_brand[reference.brand_id].append(reference)
        brands = {}
        for brand_id, refs in by_brand.items():
            built = [found for found in map(self._template, refs) if found is not None]
            key = verifier_key(ref.key for ref in refs)
            verifier = self._verifier(key, built, stored.get(brand_id), context.complete) if built else None
            if verifier is not None:
                brands[brand_id] = ([t for t, _ in built], verifier)
            elif built:
                context.awaiting_verifiers.add(brand_id)
        return brands

    def _verifier(self, key: str, built: list, stored: StoredVerifier | None, complete: bool) -> Verifier | None:
        """The brand's verifier: the stored one when it names these references, else one
        this process builds for a `complete` job (batch, or a recheck). A live job never
        builds one: it awaits the stored one, and its segment is checked again then."""
        if stored is not None and stored.key == key:
            return verifier_shared(key, lambda: Verifier.from_bytes(stored.read()))
        return verifier_shared(key, lambda: _verifier_build(built)) if complete else verifier_cached(key)

    def _template(self, reference: LogoReference) -> tuple[LogoTemplate, np.ndarray] | None:
        """Built once per reference image and kept (LRU): jobs share this process's cache."""
        with self._lock:
            if reference.key in self._templates:
                self._templates.move_to_end(reference.key)
                return self._templates[reference.key]
        return _cached(self._lock, self._templates, reference.key, _template_build(reference))


def _verifier_build(built: list[tuple[LogoTemplate, np.ndarray]]) -> Verifier:
    verifier = verifier_build([t for t, _ in built], [c for _, c in built])
    logger.info("logo verifier for %s built in %.1f s (self-test P %.2f R %.2f)", built[0][0].label,
                verifier.seconds, verifier.precision, verifier.recall)  # fmt: skip
    return verifier


def verifier_key(reference_keys) -> str:
    """Names the set of reference images a verifier is built from."""
    return "|".join(sorted(reference_keys))


@dataclass(frozen=True)
class BrandVerifier:
    key: str
    verifier: Verifier | None  # None when no reference image is usable
    warnings: list[str]


def brand_verifier_build(references: Sequence[LogoReference]) -> BrandVerifier:
    """The verifier of one brand's references, and a warning for each it cannot use."""
    built, warnings = [], []
    for number, reference in enumerate(references, 1):
        found = _template_build(reference)
        problem = _unusable(found)
        if problem:
            warnings.append(f"reference image {number}: {problem}")
        else:
            built.append(found)
    key = verifier_key(ref.key for ref in references)
    if not built:
        return BrandVerifier(key, None, warnings)
    return BrandVerifier(key, verifier_shared(key, lambda: _verifier_build(built)), warnings)


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
        image = np.asarray(Image.open(io.BytesIO(reference.read())).convert("RGBA"))
    except (OSError, UnidentifiedImageError) as exc:
        logger.warning("reference image %s of brand %s unreadable: %s", reference.key, reference.brand_name, exc)
        return None
    template = template_build(reference.brand_id, reference.brand_name, image, reference.key)
    if template is None:
        logger.warning("reference image %s of brand %s shows no logo; ignored", reference.key, reference.brand_name)
        return None
    return template, cutout(image)
