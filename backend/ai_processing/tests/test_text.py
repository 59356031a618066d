"""OCR with the real PP-OCR models, and brand names matched in what it reads."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ai_processing.analyzers.base import Box, Finding, Frame
from ai_processing.analyzers.plugins.text import TextAnalyzer
from ai_processing.brand_matching import BrandMatcher
from ai_processing.services import brand_create


@pytest.fixture(scope="module")
def ocr():
    analyzer = TextAnalyzer(models_dir=None)
    assert analyzer.status().state == "ready", analyzer.status().message
    analyzer.load()
    return analyzer


def frame_with_text(*placed: tuple[str, tuple[int, int]]) -> np.ndarray:
    image = Image.new("RGB", (1280, 720), (30, 40, 60))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    for text, position in placed:
        draw.text(position, text, font=font, fill="white")
    return np.asarray(image)


def test_brand_names_rendered_into_a_frame_are_read_where_they_are(ocr):
    image = frame_with_text(("Coca-Cola", (100, 100)), ("NIKE", (700, 500)))

    found = {finding.label: finding for finding in ocr.analyze([Frame(0.0, image)])[0]}

    assert set(found) == {"Coca-Cola", "NIKE"}
    nike = found["NIKE"].box
    assert abs(nike.x * 1280 - 700) < 20 and abs(nike.y * 720 - 510) < 25


def test_no_text_no_findings(ocr):
    assert ocr.analyze([Frame(0.0, frame_with_text())])[0] == []


@pytest.mark.django_db
def test_brands_match_ignoring_case_spacing_punctuation_and_through_aliases(user):
    cola = brand_create(owner=user, name="Coca-Cola", aliases=["Coke"])
    brand_create(owner=user, name="Nike")
    matcher = BrandMatcher([cola, *user.brands.exclude(pk=cola.pk)])
    texts = ["COCA COLA", "drink coke!", "n i k e", "Adidas"]
    findings = [("text", Finding("text", text, 0.9, Box(0.1, 0.1, 0.2, 0.1))) for text in texts]

    brands = [(f.label, f.extra["text"]) for _, f in matcher.link(findings) if f.kind == "brand"]

    assert brands == [("Coca-Cola", "COCA COLA"), ("Coca-Cola", "drink coke!"), ("Nike", "n i k e")]
