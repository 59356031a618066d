"""Media on Google Cloud Storage, against the gcp-storage-emulator on loopback."""

import subprocess
import sys
from pathlib import Path

import pytest

from api.tests.test_brands_api import png_upload
from media_analyzer.tests.net import free_port

pytestmark = pytest.mark.django_db
BUCKET = "media-analyzer-test"


@pytest.fixture
def gcs_emulator(monkeypatch):
    port = free_port()
    emulator = Path(sys.executable).parent / "gcp-storage-emulator"
    process = subprocess.Popen(
        [emulator, "start", "--host", "127.0.0.1", "--port", str(port), "--default-bucket", BUCKET, "--in-memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in process.stdout:  # bounded by the test timeout
            if "All services started" in line:
                break
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
        yield
    finally:
        process.kill()
        process.wait(timeout=10)


def test_reference_images_go_to_the_bucket(api, settings, gcs_emulator):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
            "OPTIONS": {"bucket_name": BUCKET, "project_id": "test"},
        },
    }
    from google.cloud import storage

    brand = api.post("/api/brands/", {"name": "Acme"}, format="json").data

    response = api.post(f"/api/brands/{brand['id']}/images/", {"image": png_upload()}, format="multipart")

    assert response.status_code == 201
    names = [blob.name for blob in storage.Client(project="test").bucket(BUCKET).list_blobs()]
    assert len(names) == 1 and names[0].startswith("brands/")
    assert api.get(response.data["url"]).status_code == 200
    assert api.get("/api/health").json()["components"]["storage"] == {"status": "ok", "message": "GoogleCloudStorage"}


def test_segments_stay_on_the_shared_media_volume_when_media_goes_to_gcs(settings, stream, tmp_path):
    """ffmpeg writes segments and PyAV reads them as files, whatever MEDIA_STORAGE says."""
    from datetime import UTC, datetime

    from streaming.models import MediaSegment

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.gcloud.GoogleCloudStorage", "OPTIONS": {"bucket_name": BUCKET}},
    }
    settings.MEDIA_ROOT = tmp_path

    segment = MediaSegment.objects.create(
        stream=stream,
        seq=0,
        file="streams/s/seg_000000.ts",
        duration=2,
        start_pts=0,
        program_date_time=datetime.now(UTC),
        bytes=1,
    )

    assert segment.file.path == str(tmp_path / "streams" / "s" / "seg_000000.ts")
