"""Brands named in on-screen text: a pipeline step after the analyzers, which stay
context-free. Matching ignores case, spacing and punctuation, and covers aliases."""

from __future__ import annotations

import re
from dataclasses import replace

from ai_processing.analyzers.base import Finding
from ai_processing.models import Brand

_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalised(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


class BrandMatcher:
    def __init__(self, brands: list[Brand]) -> None:
        self.terms = [
            (normalised(term), brand) for brand in brands for term in [brand.name, *brand.aliases] if normalised(term)
        ]

    def link(self, findings: list[tuple[str, Finding]]) -> list[tuple[str, Finding]]:
        """The findings, plus one `brand` finding per brand named in a text finding."""
        if not self.terms:
            return findings
        linked = list(findings)
        for analyzer, finding in findings:
            if finding.kind != "text":
                continue
            text = normalised(finding.label)
            for brand in {brand.pk: brand for term, brand in self.terms if term in text}.values():
                extra = {"brand_id": brand.pk, "source": "ocr", "text": finding.label}
                linked.append((analyzer, replace(finding, kind="brand", label=brand.name, extra=extra)))
        return linked
