"""The live path with real processes on loopback: ffmpeg (as OBS) and GStreamer publish
RTMP, our ingest writes HLS, the registry records segments, the channel layer hears it."""

import os
import signal
import socket

import av
import pytest

from streaming.ingest.playlists import newest_playlist, playlist_entries
from streaming.ingest.rtmp import RtmpLimits
from streaming.models import MediaSegment, Stream
from streaming.services import stream_create
from streaming.tests.live import (
    GST_LAUNCH, ffmpeg_publisher, gstreamer_publisher, start_live_ingest, stop_live_ingest,
)  # fmt: skip

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def live(settings, tmp_path, analysis_workers):
    settings.MEDIA_ROOT = tmp_path
    settings.INGEST = {**settings.INGEST, "RTMP_PORT": 0, "HLS_ROOT": tmp_path / "streams"}
    settings.MEDIA_ANALYZER = {**settings.MEDIA_ANALYZER, "ANALYZERS": ["visual"]}
    live = start_live_ingest(RtmpLimits(idle_timeout_s=2.0, publish_timeout_s=3.0, handshake_timeout_s=2.0))
    yield live
    stop_live_ingest(live)


@pytest.fixture
def make_stream(user):
    def make(name="cam"):
        return stream_create(owner=user, name=name, enabled_analyzers=["visual"])

    return make


def is_state(status):
    return lambda event: event["type"] == "stream.state" and event["status"] == status


def assert_registered_exactly_once(stream, settings):
    playlist = newest_playlist(settings.INGEST["HLS_ROOT"] / str(stream.id))
    text = playlist.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    listed = [entry.seq for entry in playlist_entries(text)]
    registered = list(MediaSegment.objects.filter(stream=stream).order_by("seq").values_list("seq", flat=True))
    assert registered == listed and listed == list(range(listed[0], listed[0] + len(listed)))
    return playlist_entries(text)


def test_publish_1080p_gives_hls_with_pdt_and_every_segment_registered(live, make_stream, settings, make_user):
    stream, key = make_stream()
    events = live.events(stream.id)

    publisher = ffmpeg_publisher(live.url(key), seconds=7)
    events.wait_for(is_state("live"))
    _, seen = events.wait_for(is_state("offline"), timeout=60)

    assert publisher.wait(30) == 0, publisher.stderr.read()
    entries = assert_registered_exactly_once(stream, settings)
    assert len(entries) >= 3
    pdts = [entry.program_date_time for entry in entries]
    assert pdts == sorted(pdts) and len(set(pdts)) == len(pdts)
    segment = MediaSegment.objects.filter(stream=stream).order_by("seq").first()
    with av.open(segment.file.path) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 1920, 1080)
        assert container.streams.audio[0].codec_context.name == "aac"  # passed through, not re-encoded
        assert sum(1 for _ in container.decode(video)) >= 55
    frames = [event for event in seen if event["type"] == "analysis.frame"]
    assert frames and all(event["v"] == 1 and event["pdt"] and "pts" in event for event in frames)
    assert Stream.objects.get(pk=stream.pk).status == "offline"
    assert_metrics_after_a_stream(stream, make_user)


def assert_metrics_after_a_stream(stream, make_user):
    """After a real stream is analysed, /api/metrics exposes the series operators graph."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_user("operator", is_staff=True))
    text = client.get("/api/metrics").content.decode()
    for series in ("media_analyzer_stage_seconds_count{stage=\"analyze:visual\"}", "media_analyzer_frames_analysed_total",
                   "media_analyzer_segments{state=", "media_analyzer_queue_depth{queue=\"realtime\"}",
                   "media_analyzer_websocket_clients", f"media_analyzer_ingest_bytes_total{{stream=\"{stream.id}\"}}"):
        assert series in text, series
    assert APIClient().get("/api/metrics").status_code in (401, 403)


def test_a_bad_key_is_refused_and_writes_nothing(live, make_stream, settings):
    make_stream()

    publisher = ffmpeg_publisher(live.url("sk_not-a-real-key"), seconds=3, size="320x240")

    assert publisher.wait(20) != 0
    assert "invalid stream key" in publisher.stderr.read()
    assert not any(settings.INGEST["HLS_ROOT"].glob("*/*"))


def test_a_second_publisher_on_a_live_key_is_refused(live, make_stream):
    stream, key = make_stream()
    events = live.events(stream.id)
    first = ffmpeg_publisher(live.url(key), seconds=6, size="320x240")
    events.wait_for(is_state("live"))

    second = ffmpeg_publisher(live.url(key), seconds=3, size="320x240")

    assert second.wait(20) != 0
    assert "already live" in second.stderr.read()
    assert first.wait(30) == 0


def test_two_streams_at_once(live, make_stream, settings):
    (one, key_one), (two, key_two) = make_stream("one"), make_stream("two")
    events_one, events_two = live.events(one.id), live.events(two.id)

    publishers = [ffmpeg_publisher(live.url(key), seconds=5, size="640x360") for key in (key_one, key_two)]
    for events in (events_one, events_two):
        events.wait_for(is_state("offline"), timeout=60)

    assert [publisher.wait(30) for publisher in publishers] == [0, 0]
    for stream in (one, two):
        assert len(assert_registered_exactly_once(stream, settings)) >= 2


def test_a_killed_publisher_ends_the_stream_with_every_segment_registered(live, make_stream, settings):
    stream, key = make_stream()
    events = live.events(stream.id)
    publisher = ffmpeg_publisher(live.url(key), seconds=30, size="640x360")
    events.wait_for(is_state("live"))
    events.wait_for(lambda event: event["type"] == "analysis.frame" and event["segment_seq"] >= 1, timeout=30)

    publisher.send_signal(signal.SIGKILL)
    events.wait_for(is_state("offline"), timeout=30)

    assert len(assert_registered_exactly_once(stream, settings)) >= 2


def test_a_stalled_publisher_times_out(live, make_stream, settings):
    stream, key = make_stream()
    events = live.events(stream.id)
    publisher = ffmpeg_publisher(live.url(key), seconds=30, size="320x240")
    events.wait_for(lambda event: event["type"] == "analysis.frame")

    publisher.send_signal(signal.SIGSTOP)  # half-open: the socket stays, the bytes stop
    try:
        events.wait_for(is_state("offline"), timeout=20)
    finally:
        publisher.kill()
    assert_registered_exactly_once(stream, settings)


def test_republish_starts_a_new_session_and_keeps_earlier_segments(live, make_stream, settings):
    stream, key = make_stream()
    events = live.events(stream.id)
    for _ in range(2):
        assert ffmpeg_publisher(live.url(key), seconds=3, size="320x240").wait(30) == 0
        events.wait_for(is_state("offline"), timeout=30)

    seqs = list(MediaSegment.objects.filter(stream=stream).order_by("seq").values_list("seq", "start_pts"))
    assert [seq for seq, _ in seqs] == list(range(len(seqs)))
    assert all(b[1] > a[1] for a, b in zip(seqs, seqs[1:]))  # stream time keeps going
    assert len(list((settings.INGEST["HLS_ROOT"] / str(stream.id)).glob("live-*.m3u8"))) == 2


def test_a_restarted_watcher_registers_what_it_missed_without_duplicates(live, make_stream, settings):
    stream, key = make_stream()
    events = live.events(stream.id)
    publisher = ffmpeg_publisher(live.url(key), seconds=8, size="320x240")
    events.wait_for(is_state("live"))

    live.ingest.watcher.stop()  # segments close while nobody watches
    assert publisher.wait(30) == 0
    events.wait_for(is_state("offline"), timeout=30)  # the session's own final pass registers them
    live.ingest.watcher.start()  # and a restart finds nothing new to add

    assert_registered_exactly_once(stream, settings)


@pytest.mark.skipif(GST_LAUNCH is None and not os.environ.get("CI"), reason="needs gst-launch-1.0 (Debian gstreamer1.0-tools)")
def test_gstreamer_rtmp2sink_publishes(live, make_stream, settings):
    stream, key = make_stream()
    events = live.events(stream.id)

    publisher = gstreamer_publisher(live.url(key), seconds=5)
    events.wait_for(is_state("live"))
    events.wait_for(is_state("offline"), timeout=40)

    assert publisher.wait(30) == 0, publisher.stderr.read()
    assert len(assert_registered_exactly_once(stream, settings)) >= 2


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # not RTMP at all
        b"\x03" + b"\x00" * 100,  # a handshake that never finishes
        b"\x03" + b"\x00" * 1536 + b"\x00" * 1536 + b"\x03\x00\x00\x00\xff\xff\xff\x14\x00\x00\x00\x00",  # 16 MB msg
        b"\x03" + b"\x00" * 3072 + b"\xc3" * 200,  # continuation chunks of a stream never started
    ],
)
def test_malformed_bytes_close_the_connection_and_ingest_carries_on(live, make_stream, garbage):
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(garbage)
        sock.settimeout(10)
        closed = b""
        while chunk := sock.recv(65536):  # the server closes it: recv returns b""
            closed += chunk
            assert len(closed) < 10_000

    stream, key = make_stream()
    assert ffmpeg_publisher(live.url(key), seconds=2, size="320x240").wait(30) == 0


def test_an_idle_connection_is_closed(live):
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.settimeout(10)
        assert sock.recv(1) == b""  # closed by the handshake timeout, not by us
