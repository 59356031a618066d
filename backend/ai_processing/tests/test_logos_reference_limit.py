"""A reference image stored before the upload limit existed is not decoded by the analyzer."""

import pytest
from PIL import ImageFile

from ai_processing.analyzers.base import LogoReference
from ai_processing.analyzers.plugins.logos import _template_build
from api.tests.test_brands_api import png_header_only_bomb


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # PIL warns from 89 MP
def test_a_reference_over_the_pixel_limit_is_skipped_without_decoding(monkeypatch):
    bomb = png_header_only_bomb(12000, 12000)
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("pixel data decoded"))

    assert _template_build(LogoReference(1, "Acme", "k", lambda: bomb)) is None
