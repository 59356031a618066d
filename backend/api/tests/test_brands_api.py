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
