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
        """The findings, plus one `brand` finding per brand named in a text finding; a logo
        named by a cloud service is linked to the brand of that name."""
        if not self.terms:
            return findings
        linked = [(analyzer, self._named_logo(finding)) for analyzer, finding in findings]
        for analyzer, finding in findings:
            if finding.kind != "text":
                continue
            text = normalised(finding.label)
            for brand in {brand.pk: brand for term, brand in self.terms if term in text}.values():
                extra = {"brand_id": brand.pk, "source": "ocr", "text": finding.label}
                linked.append((analyzer, replace(finding, kind="brand", label=brand.name, extra=extra)))
        return linked

    def _named_logo(self, finding: Finding) -> Finding:
        if finding.kind != "logo" or "brand_id" in finding.extra:
            return finding
        name = normalised(finding.label)
        brand = next((brand for term, brand in self.terms if term == name), None)
        return replace(finding, extra={**finding.extra, "brand_id": brand.pk}) if brand else finding
