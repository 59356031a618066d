"""Exposure and alert endpoints: owner-only, ranges, CSV/JSON, rule validation."""

import csv
import io
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from ai_processing.services import brand_create
from exposure.tests.test_tracking import START, sight, update

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_seen(stream, user):
    brand = brand_create(owner=user, name="Acme")
    sight(stream, brand, [0.0, 0.5, 1.0, 1.5])
    update(stream, 0, 2)
    return brand


def test_exposure_json_and_csv_for_a_range(api, stream, acme_seen):
    until = (START + timedelta(seconds=1)).isoformat()

    whole = api.get(f"/api/streams/{stream.pk}/exposure/").json()
    part = api.get(f"/api/streams/{stream.pk}/exposure/", {"since": START.isoformat(), "until": until}).json()
    exported = api.get(f"/api/streams/{stream.pk}/exposure.csv")

    assert [b["brand"] for b in whole["brands"]] == ["Acme"] and whole["brands"][0]["screen_time_s"] == 2.0
    assert part["brands"][0]["screen_time_s"] == pytest.approx(1.0)
    assert exported["Content-Type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert row["brand"] == "Acme" and float(row["screen_time_s"]) == 2.0


def test_appearances_list_with_play_link_and_csv(api, stream, acme_seen):
    [appearance] = api.get(f"/api/streams/{stream.pk}/appearances/").json()
    exported = api.get(f"/api/streams/{stream.pk}/appearances.csv").content.decode()

    assert appearance["track_id"] == 1 and appearance["duration_s"] == 2.0
    assert appearance["play_url"] == f"/streams/{stream.pk}?at=2026-11-24T12:00:00Z"
    assert "Acme" in exported.splitlines()[1]


def test_a_bad_range_is_a_clear_400(api, stream, acme_seen):
    response = api.get(f"/api/streams/{stream.pk}/exposure/", {"since": START.isoformat(), "until": START.isoformat()})

    assert response.status_code == 400 and "until" in response.json()["error"]["fields"]


def test_another_users_stream_exposure_is_not_found(stream, acme_seen, make_user):
    other = APIClient()
    other.force_authenticate(make_user("mallory"))

    assert other.get(f"/api/streams/{stream.pk}/exposure/").status_code == 404
    assert other.get(f"/api/streams/{stream.pk}/appearances.csv").status_code == 404
    assert APIClient().get(f"/api/streams/{stream.pk}/exposure/").status_code in (401, 403)


def test_alert_rules_show_their_secret_once_and_validate(api, acme_seen, make_user):
    created = api.post(
        "/api/alerts/",
        {
            "name": "long",
            "brand": acme_seen.pk,
            "condition": "on_screen_for",
            "seconds": 5,
            "webhook_url": "https://hooks.example/x",
        },
        format="json",
    )
    listed = api.get("/api/alerts/").json()
    no_seconds = api.post(
        "/api/alerts/", {"name": "x", "brand": acme_seen.pk, "condition": "on_screen_for"}, format="json"
    )
    others_brand = brand_create(owner=make_user("mallory"), name="Theirs")
    foreign = api.post("/api/alerts/", {"name": "x", "brand": others_brand.pk, "condition": "appears"}, format="json")

    assert created.status_code == 201 and len(created.json()["secret"]) >= 32
    assert "secret" not in listed[0] and listed[0]["fired"] == 0
    assert no_seconds.status_code == 400 and "seconds" in no_seconds.json()["error"]["fields"]
    assert foreign.status_code == 404


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_exports_neutralise_formula_cells(api, stream, user, name):
    brand = brand_create(owner=user, name=name)
    sight(stream, brand, [0.0, 0.5])
    update(stream, 0, 1)

    for export in ("exposure.csv", "appearances.csv"):
        content = api.get(f"/api/streams/{stream.pk}/{export}").content.decode()
        [row] = list(csv.DictReader(io.StringIO(content, newline="")))
        assert row["brand"] == "'" + name, export
        assert float(row["screen_time_s" if export == "exposure.csv" else "duration_s"]) > 0  # numbers stay numbers


@pytest.mark.parametrize("url", ["https://hooks.example:99999/x", "https://hooks.example:0/x"])
def test_a_webhook_url_with_an_invalid_port_is_a_400(api, acme_seen, url):
    created = api.post(
        "/api/alerts/", {"name": "r", "brand": acme_seen.pk, "condition": "appears", "webhook_url": url}, format="json"
    )
    rule = api.post("/api/alerts/", {"name": "r", "brand": acme_seen.pk, "condition": "appears"}, format="json")
    updated = api.patch(f"/api/alerts/{rule.json()['id']}/", {"webhook_url": url}, format="json")

    for response in (created, updated):
        assert response.status_code == 400
        assert "port" in response.json()["error"]["fields"]["webhook_url"][0]
