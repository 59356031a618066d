"""Brand logos found by their reference images (uploaded per brand, no training): colour
and silhouette matching, see `logo_shapes`. Light enough for realtime mode."""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from ai_processing.analyzers.base import NO_CONTEXT, Analyzer, Box, Context, Finding, Frame, LogoReference
from ai_processing.analyzers.logo_shapes import LogoTemplate, logos_find, template_build

logger = logging.getLogger(__name__)
KEY = "logos"
MIN_SCORE = 0.7  # silhouette correlation; true logos score 0.8-0.95 on the generated set
CACHED_TEMPLATES = 512


class LogosAnalyzer(Analyzer):
    key = KEY
    kinds = ("logo",)

    def load(self) -> None:
        self._templates: OrderedDict[str, LogoTemplate | None] = OrderedDict()
        self._lock = threading.Lock()

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        templates = [t for t in map(self._template, context.logos) if t is not None]
        if not templates:
            return [[] for _ in frames]
        return [self._found(frame.image, templates) for frame in frames]

    def _found(self, image: np.ndarray, templates: list[LogoTemplate]) -> list[Finding]:
        height, width = image.shape[:2]
        return [
            Finding("logo", match.label, round(match.score, 4),
                    Box(match.box[0] / width, match.box[1] / height, match.box[2] / width, match.box[3] / height),
                    {"brand_id": match.brand_id, "source": "logo"})  # fmt: skip
            for match in logos_find(image, templates, MIN_SCORE)
        ]

    def _template(self, reference: LogoReference) -> LogoTemplate | None:
        """Built once per reference image and kept (LRU): jobs share this process's cache."""
        with self._lock:
            if reference.key in self._templates:
                self._templates.move_to_end(reference.key)
                return self._templates[reference.key]
        template = _template_build(reference)
        with self._lock:
            self._templates[reference.key] = template
            while len(self._templates) > CACHED_TEMPLATES:
                self._templates.popitem(last=False)
        return template


def _template_build(reference: LogoReference) -> LogoTemplate | None:
    try:
        image = np.asarray(Image.open(io.BytesIO(reference.read())).convert("RGBA"))
    except (OSError, UnidentifiedImageError) as exc:
        logger.warning("reference image %s of brand %s unreadable: %s", reference.key, reference.brand_name, exc)
        return None
    template = template_build(reference.brand_id, reference.brand_name, image)
    if template is None:
        logger.warning("reference image %s of brand %s shows no logo; ignored", reference.key, reference.brand_name)
    return template
