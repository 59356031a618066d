"""The live path with real processes on loopback: ffmpeg (as OBS) and GStreamer publish
RTMP, our ingest writes HLS, the registry records segments, the channel layer hears it."""

import asyncio
import signal
import socket
import subprocess
import time

import av
import pytest

from streaming.ingest import sessions as ingest_sessions
from streaming.ingest.playlists import newest_playlist, playlist_entries
from streaming.ingest.rtmp import RtmpLimits
from streaming.ingest.sessions import IngestSessions, LiveSession
from streaming.models import MediaSegment, Stream
from streaming.selectors import publish_revocations
from streaming.services import stream_create, stream_delete, stream_rotate_key, stream_update
from streaming.tests.live import (
    ffmpeg_publisher,
    gstreamer_publisher,
    start_live_ingest,
    stop_live_ingest,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def live(settings, tmp_path, analysis_workers):
    settings.CONFIG = settings.CONFIG.model_copy(update={"rtmp_port": 0, "data_dir": tmp_path, "analyzers": ["visual"]})
    settings.MEDIA_ROOT = settings.CONFIG.media_root
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
    playlist = newest_playlist(settings.CONFIG.hls_root / str(stream.id))
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
    for series in (
        'media_analyzer_stage_seconds_count{stage="analyze:visual"}',
        "media_analyzer_frames_analysed_total",
        "media_analyzer_segments{state=",
        'media_analyzer_queue_depth{queue="realtime"}',
        "media_analyzer_websocket_clients",
        f'media_analyzer_ingest_bytes_total{{stream="{stream.id}"}}',
    ):
        assert series in text, series
    assert APIClient().get("/api/metrics").status_code in (401, 403)


def test_a_bad_key_is_refused_and_writes_nothing(live, make_stream, settings):
    make_stream()

    publisher = ffmpeg_publisher(live.url("sk_not-a-real-key"), seconds=3, size="320x240")

    assert publisher.wait(20) != 0
    assert "invalid stream key" in publisher.stderr.read()
    assert not any(settings.CONFIG.hls_root.glob("*/*"))


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


# A revoked publisher is cut off within a second: the check runs every 0.5 s, and ending the
# session (ffmpeg closing its last segment, the stream going offline) takes a few tenths.
CUT_OFF_BOUND_S = 1.5


def wait_until(events, predicate, deadline: float) -> bool:
    """Whether an event matching `predicate` arrives before `deadline` (time.monotonic()),
    however many others arrive first (EventListener's timeout is per event)."""
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            if predicate(events.next(remaining)):
                return True
        except TimeoutError:
            return False
    return False


def exit_code_before(process: subprocess.Popen, deadline: float) -> int | None:
    try:
        return process.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda stream: stream_rotate_key(stream=stream), id="rotate-key"),
        pytest.param(lambda stream: stream_update(stream=stream, ingest_enabled=False), id="disable-ingest"),
    ],
)
def test_revoking_a_live_stream_cuts_its_publisher_off(live, make_stream, settings, revoke):
    stream, key = make_stream()
    events = live.events(stream.id)
    publisher = ffmpeg_publisher(live.url(key), seconds=60, size="320x240")
    try:
        events.wait_for(is_state("live"))
        events.wait_for(lambda event: event["type"] == "analysis.frame")  # a segment is out: really publishing

        revoked_at = time.monotonic()
        revoke(Stream.objects.get(pk=stream.pk))
        went_offline = wait_until(events, is_state("offline"), deadline=revoked_at + 2)
        offline_s = time.monotonic() - revoked_at
        exit_code = exit_code_before(publisher, deadline=revoked_at + 2)
        closed_s = time.monotonic() - revoked_at
    finally:
        publisher.kill()

    assert went_offline, "the stream was still live 2 s after revocation"
    assert exit_code is not None, "the publisher was still connected 2 s after revocation"

    assert offline_s <= CUT_OFF_BOUND_S, f"stream went offline {offline_s:.2f} s after revocation"
    assert closed_s <= CUT_OFF_BOUND_S, f"publisher's connection closed {closed_s:.2f} s after revocation"
    assert exit_code != 0  # ffmpeg had 60 s to send: the server ended it
    assert Stream.objects.get(pk=stream.pk).status == "offline"
    assert_registered_exactly_once(stream, settings)  # the playlist was finalised, with ENDLIST
    print(f"cut off: offline {offline_s:.2f} s, connection closed {closed_s:.2f} s after revocation")


def test_deleting_a_live_stream_cuts_its_publisher_off(live, make_stream):
    stream, key = make_stream()
    events = live.events(stream.id)
    publisher = ffmpeg_publisher(live.url(key), seconds=60, size="320x240")
    try:
        events.wait_for(lambda event: event["type"] == "analysis.frame")

        deleted_at = time.monotonic()
        stream_delete(stream=stream)
        exit_code = exit_code_before(publisher, deadline=deleted_at + 2)
        closed_s = time.monotonic() - deleted_at
    finally:
        publisher.kill()

    assert exit_code is not None, "the publisher was still connected 2 s after its stream was deleted"
    assert closed_s <= CUT_OFF_BOUND_S, f"publisher's connection closed {closed_s:.2f} s after deletion"
    assert not live.ingest.sessions.live


def test_publish_revocations_names_why_each_revoked_publish_must_end(make_stream):
    (kept, _), (rotated, _), (disabled, _), (deleted, _) = (make_stream(name) for name in ("a", "b", "c", "d"))
    authorised = {stream.id: stream.key_digest for stream in (kept, rotated, disabled, deleted)}
    deleted_id = deleted.id  # deleting clears it
    stream_rotate_key(stream=rotated)
    stream_update(stream=disabled, ingest_enabled=False)
    stream_delete(stream=deleted)

    assert publish_revocations(authorised) == {
        rotated.id: "key rotated",
        disabled.id: "ingest disabled",
        deleted_id: "stream deleted",
    }


def test_the_revocation_check_survives_a_failing_pass(monkeypatch, tmp_path):
    sessions = IngestSessions(tmp_path, tmp_path, 2.0)
    session = sessions.live["s"] = LiveSession("s", "digest", "peer", sink=object())
    answers = iter([RuntimeError("database down"), {"s": "key rotated"}])

    def revocations(authorised):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(ingest_sessions, "publish_revocations", revocations)
    monkeypatch.setattr(ingest_sessions, "REVOCATION_CHECK_S", 0.01)
    ended = []

    async def run_until_ended():
        loop = asyncio.create_task(sessions.end_revoked_loop(lambda sink: ended.append(sink) or True))
        try:
            for _ in range(500):  # at most 5 s
                if ended:
                    return
                await asyncio.sleep(0.01)
        finally:
            loop.cancel()

    asyncio.run(run_until_ended())
    assert ended == [session.sink] and not sessions.live


def test_republish_starts_a_new_session_and_keeps_earlier_segments(live, make_stream, settings):
    stream, key = make_stream()
    events = live.events(stream.id)
    for _ in range(2):
        assert ffmpeg_publisher(live.url(key), seconds=3, size="320x240").wait(30) == 0
        events.wait_for(is_state("offline"), timeout=30)

    seqs = list(MediaSegment.objects.filter(stream=stream).order_by("seq").values_list("seq", "start_pts"))
    assert [seq for seq, _ in seqs] == list(range(len(seqs)))
    assert all(b[1] > a[1] for a, b in zip(seqs, seqs[1:]))  # stream time keeps going
    assert len(list((settings.CONFIG.hls_root / str(stream.id)).glob("live-*.m3u8"))) == 2


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


@pytest.mark.gstreamer  # fails without gst-launch-1.0 unless left out (scripts/test --skip-gstreamer)
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


def handshake_answered(sock) -> bool:
    """Sends C0 C1; whether the server answers S0 (version 3) rather than closing."""
    sock.settimeout(10)
    sock.sendall(b"\x03" + b"\x00" * 1536)
    try:
        return sock.recv(1) == b"\x03"
    except ConnectionResetError:  # closed with our bytes unread: the kernel resets it
        return False


def connected_from(address: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((address, 0))  # any 127.x.y.z is this host's: another client address
    sock.connect(("127.0.0.1", port))
    return sock


def test_one_address_cannot_hold_every_connection_and_lock_publishers_out(live, make_stream):
    """Connections that have not published are bounded per client address: past the bound
    one address's next is closed unanswered, while a publisher from another gets in."""
    per_address = RtmpLimits().max_pending_per_address
    held = [connected_from("127.0.0.2", live.port) for _ in range(per_address)]
    try:
        assert all(handshake_answered(sock) for sock in held)
        with connected_from("127.0.0.2", live.port) as refused:
            assert not handshake_answered(refused)

        stream, key = make_stream()
        assert ffmpeg_publisher(live.url(key), seconds=2, size="320x240").wait(30) == 0  # from 127.0.0.1
    finally:
        for sock in held:
            sock.close()


def test_connections_count_against_an_ipv4_address_or_an_ipv6_64():
    from streaming.ingest.rtmp import client_of

    assert client_of("2001:db8:1:2:aaaa::1") == client_of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_of("2001:db8:1:3::1") != client_of("2001:db8:1:2::1")
    assert client_of("::ffff:10.0.0.1") == client_of("10.0.0.1") == "10.0.0.1"  # a dual-stack socket's IPv4
    assert client_of("127.0.0.2") != client_of("127.0.0.1")
