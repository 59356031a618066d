import pytest
from django.urls import reverse

from streaming.keys import key_matches
from streaming.models import Stream
from streaming.selectors import stream_by_key

pytestmark = pytest.mark.django_db


def test_create_returns_the_key_once_and_stores_only_its_digest(api):
    response = api.post("/api/streams/", {"name": "Studio"}, format="json")

    assert response.status_code == 201
    key = response.data["stream_key"]
    stream = Stream.objects.get(pk=response.data["id"])
    assert len(key) >= 40 and key not in stream.key_digest
    assert key_matches(key, stream.key_digest)
    assert "stream_key" not in api.get(f"/api/streams/{stream.id}/").data
    assert stream.enabled_analyzers == ["objects", "faces", "logos", "scene", "text", "visual"]


def test_rotating_the_key_revokes_the_old_one(api, stream_with_key):
    stream, old_key = stream_with_key

    response = api.post(f"/api/streams/{stream.id}/rotate-key/")

    assert response.status_code == 200
    assert stream_by_key(old_key) is None
    assert stream_by_key(response.data["stream_key"]) == stream


def test_disabled_stream_key_opens_nothing(api, stream_with_key):
    stream, key = stream_with_key

    api.patch(f"/api/streams/{stream.id}/", {"ingest_enabled": False}, format="json")

    assert stream_by_key(key) is None


def test_invalid_payload_gets_400_with_per_field_errors(api):
    response = api.post("/api/streams/", {"name": "", "sampling_fps": 99, "enabled_analyzers": ["nope"]}, format="json")

    assert response.status_code == 400
    fields = response.data["error"]["fields"]
    assert set(fields) == {"name", "sampling_fps", "enabled_analyzers"}
    assert "unknown analyzer: nope" in fields["enabled_analyzers"][0]


def test_another_users_stream_is_404(api, make_user):
    from streaming.services import stream_create

    theirs, _ = stream_create(owner=make_user("bob"), name="Bob's")

    for response in (
        api.get(f"/api/streams/{theirs.id}/"),
        api.patch(f"/api/streams/{theirs.id}/", {"name": "mine"}, format="json"),
        api.post(f"/api/streams/{theirs.id}/rotate-key/"),
        api.delete(f"/api/streams/{theirs.id}/"),
    ):
        assert response.status_code == 404
        assert response.data["error"]["code"] == "not_found"
    assert api.get("/api/streams/").data == []


def test_staff_see_every_stream(make_user, stream):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_user("root", is_staff=True))

    assert [item["id"] for item in client.get("/api/streams/").data] == [str(stream.id)]


def test_mode_and_analysis_switch_at_run_time(api, stream):
    assert api.put(f"/api/streams/{stream.id}/mode/", {"processing_mode": "batch"}, format="json").status_code == 200
    assert api.delete(f"/api/streams/{stream.id}/analysis/").data["analysis_enabled"] is False

    stream.refresh_from_db()
    assert (stream.processing_mode, stream.analysis_enabled) == ("batch", False)
    assert api.put(f"/api/streams/{stream.id}/mode/", {"processing_mode": "x"}, format="json").status_code == 400


def test_keeping_the_record_of_skipped_segments_is_a_stream_setting(api, stream):
    assert api.get(f"/api/streams/{stream.id}/").data["backfill_skipped"] is False
    assert api.patch(f"/api/streams/{stream.id}/", {"backfill_skipped": True}, format="json").data["backfill_skipped"]
    created = api.post("/api/streams/", {"name": "Record", "backfill_skipped": True}, format="json")

    assert created.status_code == 201 and created.data["backfill_skipped"] is True
    stream.refresh_from_db()
    assert stream.backfill_skipped is True


def test_anonymous_requests_are_refused(client, stream):
    assert client.get("/api/streams/").status_code in (401, 403)
    assert client.get(f"/api/streams/{stream.id}/").status_code in (401, 403)


def test_delete_removes_the_stream(api, stream):
    assert api.delete(reverse("stream-detail", args=[stream.id])).status_code == 204
    assert not Stream.objects.filter(pk=stream.id).exists()


@pytest.fixture
def hls_root(settings, tmp_path):
    settings.CONFIG = settings.CONFIG.model_copy(update={"data_dir": tmp_path})
    settings.MEDIA_ROOT = settings.CONFIG.media_root
    return settings.CONFIG.hls_root


def test_delete_removes_the_streams_hls_directory(api, stream, hls_root, django_capture_on_commit_callbacks):
    directory = hls_root / str(stream.id)
    directory.mkdir(parents=True)
    (directory / "live-000000.m3u8").write_text("#EXTM3U\n")
    (directory / "seg_000000.ts").write_bytes(b"\x47" * 188)
    other = hls_root / "another-stream"
    other.mkdir()

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(reverse("stream-detail", args=[stream.id])).status_code == 204

    assert not directory.exists() and other.exists()


def test_delete_never_follows_a_stream_directory_out_of_the_media_root(
    api, stream, hls_root, tmp_path, django_capture_on_commit_callbacks
):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("not media")
    hls_root.mkdir(parents=True)
    (hls_root / str(stream.id)).symlink_to(outside, target_is_directory=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(reverse("stream-detail", args=[stream.id])).status_code == 204

    assert (outside / "keep.txt").exists()
