"""Uploads: a real MP4, MKV and broken files through the API, into the same registry. The
request answers 202 once the file is checked; the remux runs in the background."""

import subprocess
import threading

import imageio_ffmpeg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from media_analyzer.tests.waits import until
from streaming.models import MediaSegment, Stream

pytestmark = pytest.mark.django_db(transaction=True)
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture
def media(settings, tmp_path, analysis_workers):
    settings.CONFIG = settings.CONFIG.model_copy(update={"data_dir": tmp_path})
    settings.MEDIA_ROOT = settings.CONFIG.media_root  # so segments and HLS share it, as they run
    return settings.MEDIA_ROOT


def encode(path, *codec_args, seconds=5):
    subprocess.run(
        [FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi",
         "-i", "sine=frequency=440", "-t", str(seconds), *codec_args, str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path.read_bytes()


def post(api, name, content):
    return api.post("/api/uploads/", {"file": SimpleUploadedFile(name, content)}, format="multipart")


def remuxed(stream_id, timeout_s=60.0) -> Stream:
    """The stream once its background remux has finished (ended or failed)."""
    assert until(lambda: Stream.objects.get(pk=stream_id).status != "processing", timeout_s, interval_s=0.1)
    return Stream.objects.get(pk=stream_id)


def stored_uploads(media):
    return list((media / "uploads").iterdir()) if (media / "uploads").exists() else []


def uploads_removed(media, timeout_s=10.0) -> bool:
    """Whether the stored uploads are gone: the job deletes its upload just after it stores
    the stream's end (so a job that lost the stream never deletes the new holder's upload)."""
    return until(lambda: stored_uploads(media) == [], timeout_s, interval_s=0.05)


@pytest.fixture
def state_messages(monkeypatch):
    """The stream.state messages the remux sends, in order."""
    from streaming import uploads

    sent, send = [], uploads.broadcast_on_commit
    monkeypatch.setattr(
        uploads, "broadcast_on_commit", lambda stream_id, message: (sent.append(message), send(stream_id, message))
    )
    return sent


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])
def test_an_upload_becomes_registered_hls_segments(api, media, tmp_path, suffix):
    content = encode(tmp_path / f"in.{suffix}", "-c:v", "libx264", "-g", "60", "-c:a", "aac")

    response = post(api, f"clip.{suffix}", content)

    assert response.status_code == 202, response.data
    assert (response.data["status"], response.data["upload_progress"], response.data["status_reason"]) == (
        "processing",
        0.0,
        "",
    )
    stream = remuxed(response.data["id"])
    assert (stream.status, stream.processing_mode, stream.ingest_enabled) == ("ended", "batch", False)
    assert (stream.upload_progress, stream.status_reason) == (1.0, "")
    assert uploads_removed(media), stored_uploads(media)
    segments = list(MediaSegment.objects.filter(stream=stream).order_by("seq"))
    assert [segment.seq for segment in segments] == [0, 1, 2]
    assert abs(sum(segment.duration for segment in segments) - 5.0) < 0.1
    assert [s.start_pts for s in segments] == [0.0, segments[0].duration, segments[0].duration + segments[1].duration]
    playlist = (media / "streams" / str(stream.id) / "live-000000.m3u8").read_text()
    assert playlist.count("#EXT-X-PROGRAM-DATE-TIME") == 3 and "#EXT-X-ENDLIST" in playlist


@pytest.mark.parametrize(
    "name, make, reason",
    [
        ("notes.mp4", lambda tmp: b"this is not a video at all" * 100, "not a readable video"),
        ("truncated.mp4", lambda tmp: encode(tmp / "t.mp4", "-c:v", "libx264")[:3000], "not a readable video"),
        (
            "sound.mp4",
            lambda tmp: (
                subprocess.run(
                    [
                        FFMPEG,
                        "-loglevel",
                        "error",
                        "-f",
                        "lavfi",
                        "-i",
                        "sine",
                        "-t",
                        "1",
                        "-c:a",
                        "aac",
                        str(tmp / "a.mp4"),
                    ],
                    check=True,
                )
                and (tmp / "a.mp4").read_bytes()
            ),
            "no video",
        ),
        ("clip.avi", lambda tmp: encode(tmp / "c.avi", "-c:v", "mpeg4"), "container"),
        (
            "vp9.mkv",
            lambda tmp: encode(tmp / "v.mkv", "-c:v", "libvpx-vp9", "-deadline", "realtime", seconds=1),
            "codec vp9",
        ),
    ],
)
def test_a_bad_upload_gets_400_with_the_reason_and_leaves_nothing(api, media, tmp_path, name, make, reason):
    response = post(api, name, make(tmp_path))

    assert response.status_code == 400
    assert reason in response.data["error"]["fields"]["file"][0]
    assert Stream.objects.count() == 0 and MediaSegment.objects.count() == 0
    assert not (media / "streams").exists() or not any((media / "streams").iterdir())
    assert stored_uploads(media) == []


def test_the_remux_reports_its_progress_over_the_socket_and_the_api(api, media, tmp_path, state_messages):
    content = encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "60", "-c:a", "aac")

    stream_id = post(api, "clip.mp4", content).data["id"]

    assert remuxed(stream_id).status == "ended"
    # The job stores the end, then announces it: the message can come just after the row.
    assert until(lambda: state_messages and state_messages[-1]["status"] == "ended", 10)
    assert all(m["type"] == "stream.state" and m["stream_id"] == stream_id for m in state_messages)
    progress = [m["upload_progress"] for m in state_messages]
    assert progress == sorted(progress) and all(0 <= p <= 1 for p in progress)
    assert (state_messages[-1]["status"], progress[-1]) == ("ended", 1.0)
    assert all(m["status"] == "processing" for m in state_messages[:-1])
    shown = api.get(f"/api/streams/{stream_id}/").data
    assert (shown["status"], shown["upload_progress"], shown["status_reason"]) == ("ended", 1.0, "")


def test_a_file_cut_off_mid_stream_passes_the_checks_then_fails_with_the_reason(api, media, tmp_path, state_messages):
    """Its index (moved to the front) still says 5 s, so the probe accepts it; the remux
    then finds the data cut off: the stream fails, and neither upload nor segments stay."""
    content = encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "60", "-c:a", "aac", "-movflags", "+faststart")

    response = post(api, "cut.mp4", content[: len(content) // 3])

    assert response.status_code == 202, response.data
    stream = remuxed(response.data["id"])
    assert stream.status == "failed" and "could not be segmented" in stream.status_reason
    assert (state_messages[-1]["status"], state_messages[-1]["status_reason"]) == ("failed", stream.status_reason)
    assert uploads_removed(media), stored_uploads(media)
    assert MediaSegment.objects.count() == 0 and not (media / "streams" / str(stream.id)).exists()


def test_a_stream_deleted_while_its_upload_waits_is_not_remuxed(api, media, tmp_path):
    from streaming.uploads import upload_remux, uploads_dir

    uploads_dir().mkdir(parents=True, exist_ok=True)
    (uploads_dir() / "gone.upload").write_bytes(b"video")

    assert upload_remux("00000000-0000-0000-0000-000000000000", "gone.upload", 5.0) == "gone"
    assert stored_uploads(media) == []


def test_retention_deletes_old_media_and_keeps_rows_and_results(api, media, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from streaming.services import segment_files_expire

    response = post(api, "clip.mp4", encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "60", "-c:a", "aac"))
    assert remuxed(response.data["id"]).status == "ended"
    old, *recent = MediaSegment.objects.filter(stream_id=response.data["id"]).order_by("seq")
    MediaSegment.objects.filter(pk=old.pk).update(program_date_time=timezone.now() - timedelta(hours=100))
    old_path = media / old.file.name

    assert segment_files_expire(older_than_hours=72) == 1

    old.refresh_from_db()
    assert old.file.name == "" and not old_path.exists()
    assert all((media / segment.file.name).exists() for segment in recent)
    assert segment_files_expire(older_than_hours=72) == 0


def test_an_oversize_upload_is_refused_by_its_length_before_it_is_read(api, media, settings):
    settings.CONFIG = settings.CONFIG.model_copy(update={"upload_max_bytes": 4096})

    response = post(api, "big.mp4", b"\0" * 20_000)

    assert response.status_code == 413
    assert response.data["error"]["code"] == "too_large" and "4096" in response.data["error"]["message"]
    assert Stream.objects.count() == 0


def test_a_body_without_a_length_is_cut_off_once_it_passes_the_limit(settings):
    """A chunked body (no Content-Length) is counted as it arrives; the temporary file goes."""
    from django.test import RequestFactory

    from api.errors import PayloadTooLarge
    from api.uploads import SizeLimitedUpload

    settings.CONFIG = settings.CONFIG.model_copy(update={"upload_max_bytes": 4096})
    handler = SizeLimitedUpload(RequestFactory().post("/api/uploads/"))
    handler.handle_raw_input(None, {}, 0, b"boundary")
    handler.new_file("file", "big.mp4", "video/mp4", None)
    handler.receive_data_chunk(b"\0" * 4000, 0)
    with pytest.raises(PayloadTooLarge):
        handler.receive_data_chunk(b"\0" * 4000, 4000)
    assert handler.file.closed


@pytest.fixture
def held_pool(settings):
    """The embedded remux pool with its two threads held: a job submitted now waits, as one
    lost with its process, or queued behind a long backlog, does."""
    from streaming.uploads import _POOL, upload_pool_drain

    settings.CELERY_BROKER_URL = None  # the in-process pool, in the services suite too
    settings.CONFIG = settings.CONFIG.model_copy(update={"upload_stall_s": 600.0})
    held = threading.Event()
    for _ in range(2):
        _POOL.submit(held.wait, 60)
    yield held
    held.set()
    upload_pool_drain()


def stalled(stream_id):
    from datetime import timedelta

    from django.utils import timezone

    Stream.objects.filter(pk=stream_id).update(updated_at=timezone.now() - timedelta(seconds=601))


def test_a_stalled_upload_is_queued_again_once_then_failed_and_its_upload_deleted(
    api, media, tmp_path, held_pool, state_messages
):
    """What a restart leaves: an accepted upload whose remux job is gone (here it waits behind
    two that never finish). Past UPLOAD_STALL_S without progress the sweep queues it again,
    keeping the upload; past it once more, it fails it with the reason and deletes the upload.
    The jobs, let run at last, find it failed and do nothing."""
    from streaming.uploads import INTERRUPTED, upload_pool_drain, uploads_sweep

    response = post(api, "clip.mp4", encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "60", "-c:a", "aac"))
    assert response.status_code == 202, response.data
    stream_id = response.data["id"]
    assert len(stored_uploads(media)) == 1
    assert uploads_sweep() == 0  # waiting, not yet past the bound

    stalled(stream_id)
    assert uploads_sweep() == 1
    assert Stream.objects.filter(pk=stream_id, status="processing", status_reason="", remux_requeues=1).exists()
    assert len(stored_uploads(media)) == 1 and uploads_sweep() == 0

    stalled(stream_id)
    assert uploads_sweep() == 1
    held_pool.set()
    upload_pool_drain()  # the late jobs run now

    stream = Stream.objects.get(pk=stream_id)
    assert (stream.status, stream.status_reason) == ("failed", INTERRUPTED)
    assert (state_messages[-1]["status"], state_messages[-1]["status_reason"]) == ("failed", INTERRUPTED)
    assert stored_uploads(media) == []
    assert MediaSegment.objects.count() == 0 and not (media / "streams" / stream_id).exists()
    assert uploads_sweep() == 0


def test_an_upload_queued_behind_a_long_backlog_is_not_lost(api, media, tmp_path, held_pool):
    """The sweep cannot tell a lost job from a late one: queued again, the upload is kept,
    and whichever job runs first remuxes it; the other finds it ended."""
    from streaming.uploads import upload_pool_drain, uploads_sweep

    response = post(api, "clip.mp4", encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "60", "-c:a", "aac"))
    stream_id = response.data["id"]
    stalled(stream_id)
    assert uploads_sweep() == 1

    held_pool.set()
    upload_pool_drain()

    stream = Stream.objects.get(pk=stream_id)
    assert (stream.status, stream.status_reason) == ("ended", "")
    assert MediaSegment.objects.filter(stream_id=stream_id).count() >= 1 and stored_uploads(media) == []


def test_one_job_holds_an_upload_a_redelivery_of_it_too_and_a_released_one_stops(api, media, tmp_path, held_pool):
    """The claim: a second job is turned away, and so is a copy of the running one (a broker
    delivers again a job running past its visibility timeout); the same job delivered again
    once its worker died (no progress since) is not. Once the sweep releases the stream, the
    job that held it stops at its next progress write and leaves the upload to the next holder."""
    from datetime import timedelta

    from django.utils import timezone

    from streaming.uploads import RECLAIM_AFTER_S, _claimed, _progress, _StreamGone, uploads_sweep

    response = post(api, "clip.mp4", encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "60", "-c:a", "aac"))
    stream_id = response.data["id"]
    assert _claimed(stream_id, "first")
    assert not _claimed(stream_id, "second")
    assert not _claimed(stream_id, "first")  # a copy while it runs
    silent = timezone.now() - timedelta(seconds=RECLAIM_AFTER_S + 1)
    Stream.objects.filter(pk=stream_id).update(updated_at=silent)
    assert _claimed(stream_id, "first")  # delivered again after its worker died
    _progress(stream_id, "first", 0.5)

    stalled(stream_id)
    assert uploads_sweep() == 1  # released and queued again
    with pytest.raises(_StreamGone):
        _progress(stream_id, "first", 0.6)
    assert _claimed(stream_id, "second") and not _claimed(stream_id, "first")
    assert len(stored_uploads(media)) == 1


def test_a_stream_deleted_while_its_upload_is_remuxed_leaves_no_file(api, media, tmp_path, settings, monkeypatch):
    """The owner deletes the stream while its remux runs: the job learns it at its next
    progress write, stops, and removes the stored upload and the segments it wrote (the
    deletion cannot: the job still writes into the folder)."""
    from streaming import uploads
    from streaming.services import stream_delete

    settings.CELERY_BROKER_URL = None  # the in-process pool, in the services suite too
    outcomes, job = [], uploads.upload_remux
    monkeypatch.setattr(uploads, "upload_remux", lambda *args: outcomes.append(job(*args)))
    progress, deleted = uploads._progress, threading.Event()

    def deleted_at_first_progress(stream_id, token, fraction):
        if not deleted.is_set():
            deleted.set()
            stream_delete(stream=Stream.objects.get(pk=stream_id))
        progress(stream_id, token, fraction)

    monkeypatch.setattr(uploads, "_progress", deleted_at_first_progress)
    response = post(api, "clip.mp4", encode(tmp_path / "in.mp4", "-c:v", "libx264", "-g", "30", "-c:a", "aac"))
    uploads.upload_pool_drain()

    assert deleted.is_set() and outcomes == ["gone"]
    assert not Stream.objects.filter(pk=response.data["id"]).exists()
    assert stored_uploads(media) == []
    assert not (media / "streams" / response.data["id"]).exists()
    assert not MediaSegment.objects.filter(stream_id=response.data["id"]).exists()


def test_an_upload_whose_remux_reports_progress_is_left_to_it(user, media, settings):
    """The bound counts from the last progress write: a long remux still under way is not
    failed, however long ago it was uploaded."""
    from datetime import timedelta

    from django.utils import timezone

    from streaming.services import stream_create
    from streaming.uploads import upload_path, uploads_dir, uploads_sweep

    settings.CONFIG = settings.CONFIG.model_copy(update={"upload_stall_s": 600.0})
    stream, _ = stream_create(owner=user, name="long.mp4", processing_mode=Stream.Mode.BATCH)
    uploads_dir().mkdir(parents=True)
    upload_path(stream.pk).write_bytes(b"video")
    Stream.objects.filter(pk=stream.pk).update(
        status="processing", upload_progress=0.5, created_at=timezone.now() - timedelta(hours=5)
    )

    assert uploads_sweep() == 0

    assert Stream.objects.get(pk=stream.pk).status == "processing" and upload_path(stream.pk).exists()
