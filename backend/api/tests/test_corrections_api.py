"""Correction endpoints: owner-only (404 for anyone else), validated (clear 400s), and
their effect on the exposure."""

import os

import numpy as np
import pytest
from rest_framework.test import APIClient

from ai_processing.analyzers.logo_corrections import Crop
from ai_processing.models import LogoCorrection
from ai_processing.services import brand_create, logo_correction_add
from exposure.models import BrandAppearance
from exposure.tests.test_tracking import sight, update

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(user):
    return brand_create(owner=user, name="Acme")


@pytest.fixture
def appearance(stream, acme):
    sight(stream, acme, [0.0, 0.5, 1.0])
    update(stream, 0, 2)
    return BrandAppearance.objects.get(stream=stream, brand=acme)


@pytest.fixture
def correction(settings, tmp_path, acme, stream):
    settings.MEDIA_ROOT = tmp_path
    crop = Crop(np.zeros((40, 60, 3), np.uint8), (10, 8, 40, 24))
    return logo_correction_add(brand=acme, kind="negative", crop=crop, stream=stream, pts=1.0)


@pytest.fixture
def mallory(make_user):
    client = APIClient()
    client.force_authenticate(make_user("mallory"))
    return client


def test_not_this_brand_removes_the_appearance_even_without_video(api, stream, appearance):
    response = api.post(f"/api/streams/{stream.pk}/appearances/{appearance.pk}/reject/")

    assert response.status_code == 200 and response.json() == {"negatives": 0}  # the test segment has no file
    assert not BrandAppearance.objects.filter(pk=appearance.pk).exists()
    assert api.get(f"/api/streams/{stream.pk}/exposure/").json()["brands"] == []


def test_another_user_cannot_reject_an_appearance(mallory, make_user, stream, appearance):
    from streaming.services import stream_create

    own_stream, _ = stream_create(owner=make_user("mallory2"), name="Other")
    other = APIClient()
    other.force_authenticate(own_stream.owner)

    assert mallory.post(f"/api/streams/{stream.pk}/appearances/{appearance.pk}/reject/").status_code == 404
    # Their own stream with someone else's appearance id: not found either.
    assert other.post(f"/api/streams/{own_stream.pk}/appearances/{appearance.pk}/reject/").status_code == 404
    assert BrandAppearance.objects.filter(pk=appearance.pk).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"brand": 0, "pts": 1.0}, None),  # not found: 404, below
        ({"pts": 1.0}, "brand"),
        ({"brand": "{acme}"}, "pts"),
        ({"brand": "{acme}", "pts": 1.0, "at": "2026-11-24T12:00:00Z"}, "pts"),
        ({"brand": "{acme}", "pts": -1}, "pts"),
        ({"brand": "{acme}", "pts": 1.0, "box": {"x": 0.9, "y": 0.1, "w": 0.2, "h": 0.1}}, "box"),
        ({"brand": "{acme}", "pts": 1.0, "box": {"x": 0.1, "y": 0.1}}, "box"),
    ],
)
def test_missed_here_input_is_validated(api, stream, acme, body, field):
    body = {key: acme.pk if value == "{acme}" else value for key, value in body.items()}

    response = api.post(f"/api/streams/{stream.pk}/logo-missed/", body, format="json")

    if field is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 400 and field in response.json()["error"]["fields"], response.json()


def test_missed_here_where_no_segment_was_analysed_is_a_clear_400(api, stream, acme):
    response = api.post(f"/api/streams/{stream.pk}/logo-missed/", {"brand": acme.pk, "pts": 30.0}, format="json")

    assert response.status_code == 400
    assert "no analysed segment" in response.json()["error"]["fields"]["non_field_errors"][0]


def test_missed_here_is_owner_only(api, mallory, make_user, stream, acme):
    theirs = brand_create(owner=make_user("trent"), name="Trent")

    assert (
        mallory.post(
            f"/api/streams/{stream.pk}/logo-missed/", {"brand": acme.pk, "pts": 1.0}, format="json"
        ).status_code
        == 404
    )
    assert (
        api.post(f"/api/streams/{stream.pk}/logo-missed/", {"brand": theirs.pk, "pts": 1.0}, format="json").status_code
        == 404
    )


def test_corrections_are_listed_counted_served_and_undone(
    api, acme, correction, monkeypatch, django_capture_on_commit_callbacks
):
    rebuilds = []
    monkeypatch.setattr("ai_processing.dispatch.verifier_dispatch", rebuilds.append)
    [listed] = api.get(f"/api/brands/{acme.pk}/corrections/").json()
    brand = api.get(f"/api/brands/{acme.pk}/").json()
    image = api.get(listed["image_url"])

    assert listed["kind"] == "negative" and listed["box"] == [10, 8, 40, 24] and listed["pts"] == 1.0
    assert (listed["width"], listed["height"]) == (60, 40)
    assert brand["corrections"] == {"negative": 1, "positive": 0}
    assert image.status_code == 200 and image["Content-Type"] == "image/png"

    path = correction.image.path
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/brands/{acme.pk}/corrections/{correction.pk}/").status_code == 204
    assert not LogoCorrection.objects.exists() and not os.path.exists(path)
    assert rebuilds == [acme.pk]  # the verifier is rebuilt without it


def test_another_users_corrections_are_not_found(mallory, acme, correction):
    assert mallory.get(f"/api/brands/{acme.pk}/corrections/").status_code == 404
    assert mallory.get(f"/api/brands/{acme.pk}/corrections/{correction.pk}/image").status_code == 404
    assert mallory.delete(f"/api/brands/{acme.pk}/corrections/{correction.pk}/").status_code == 404
    assert LogoCorrection.objects.filter(pk=correction.pk).exists()
