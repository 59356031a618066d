import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ai_processing.models import BrandReferenceImage

pytestmark = pytest.mark.django_db


def png_upload(size=(64, 32), name="logo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def brand(api):
    return api.post("/api/brands/", {"name": "Acme", "aliases": ["ACME Corp", " acme corp "]}, format="json").data


def test_create_brand_cleans_aliases(brand):
    assert brand["aliases"] == ["ACME Corp"]


def test_duplicate_brand_name_is_a_field_error(api, brand):
    response = api.post("/api/brands/", {"name": "Acme"}, format="json")

    assert response.status_code == 400
    assert "name" in response.data["error"]["fields"]


def test_reference_image_upload_is_stored_and_served_to_the_owner_only(api, brand, make_user):
    response = api.post(f"/api/brands/{brand['id']}/images/", {"image": png_upload()}, format="multipart")

    assert response.status_code == 201
    assert (response.data["width"], response.data["height"]) == (64, 32)
    served = api.get(response.data["url"])
    assert served.status_code == 200
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (64, 32)

    from rest_framework.test import APIClient

    stranger = APIClient()
    stranger.force_authenticate(make_user("mallory"))
    assert stranger.get(response.data["url"]).status_code == 404


def test_corrupt_image_is_rejected_and_nothing_is_stored(api, brand):
    corrupt = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\nnot really a png", content_type="image/png")

    response = api.post(f"/api/brands/{brand['id']}/images/", {"image": corrupt}, format="multipart")

    assert response.status_code == 400
    assert "image" in response.data["error"]["fields"]
    assert BrandReferenceImage.objects.count() == 0


def test_tiny_image_is_rejected(api, brand):
    response = api.post(f"/api/brands/{brand['id']}/images/", {"image": png_upload((8, 8))}, format="multipart")

    assert response.status_code == 400


def test_deleting_a_brand_deletes_its_image_files(api, brand, django_capture_on_commit_callbacks):
    api.post(f"/api/brands/{brand['id']}/images/", {"image": png_upload()}, format="multipart")
    reference = BrandReferenceImage.objects.get()
    storage, name = reference.image.storage, reference.image.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/brands/{brand['id']}/").status_code == 204

    assert not storage.exists(name)


def png_header_only_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width x height: a few KB on the wire, width x height
    pixels once decoded (PIL decodes it to one byte a pixel)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytes(1 + (width + 7) // 8) * height  # filter byte + packed bits, all zero
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # PIL warns from 89 MP
def test_reference_image_over_the_pixel_limit_is_refused_from_its_header(api, brand, monkeypatch):
    from PIL import ImageFile

    bomb = png_header_only_bomb(12000, 12000)
    assert len(bomb) < 200_000
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("pixel data decoded"))

    response = api.post(
        f"/api/brands/{brand['id']}/images/",
        {"image": SimpleUploadedFile("logo.png", bomb, content_type="image/png")},
        format="multipart",
    )

    assert response.status_code == 400
    assert "megapixels" in response.json()["error"]["fields"]["image"][0]
    assert not BrandReferenceImage.objects.exists()
