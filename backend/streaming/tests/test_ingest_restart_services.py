"""Services mode: the ingest (`manage.py ingest`) SIGKILLed mid-publish, with its HLS muxer,
and started again; the publisher reconnects, as OBS does. Every segment the muxer closed,
before the kill and after, is registered once and analysed once: the restarted watcher
catches up from the playlists on disk, and the sweep dispatches what was lost with it."""

import signal
from pathlib import Path

import pytest

from ai_processing.models import FrameAnalysis
from ai_processing.tests.test_sweep_services import free_port, start_ingest, start_redis
from ai_processing.tests.test_worker_killed import start_worker, stop
from media_analyzer.tests.waits import until
from streaming.ingest.playlists import playlist_entries
from streaming.models import MediaSegment
from streaming.tests.live import ffmpeg_publisher

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def closed_segments(data_dir: Path) -> set[int]:
    """The seq of every segment a playlist on disk lists: what the muxers closed."""
    return {entry.seq for playlist in data_dir.rglob("live-*.m3u8") for entry in playlist_entries(playlist.read_text())}


def test_an_ingest_killed_mid_publish_loses_no_segment_and_analyses_each_once(tmp_path, stream_with_key):
    stream, key = stream_with_key
    stream.enabled_analyzers, stream.processing_mode, stream.sampling_fps = ["text"], "batch", 1
    stream.save()
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    segments = MediaSegment.objects.filter(stream=stream)
    processes = [start_redis(port), start_worker(tmp_path, REDIS_URL=url)]
    try:
        ingest, rtmp = start_ingest(tmp_path, url, HLS_SEGMENT_SECONDS="1")
        processes.append(ingest)
        publisher = ffmpeg_publisher(f"rtmp://127.0.0.1:{rtmp}/live/{key}", 30, size="640x360")
        assert until(lambda: segments.count() >= 3, 60), "the first ingest registered no segments"
        stop(ingest, signal.SIGKILL)  # the ingest and its muxer, mid-publish
        assert publisher.wait(timeout=30) != 0  # its connection dropped

        # The new ingest marks the stream offline, catches up, sweeps.
        ingest, rtmp = start_ingest(tmp_path, url, HLS_SEGMENT_SECONDS="1")
        processes[-1] = ingest
        publisher = ffmpeg_publisher(f"rtmp://127.0.0.1:{rtmp}/live/{key}", 5, size="640x360")
        assert publisher.wait(timeout=60) == 0, publisher.stderr.read()
        closed = closed_segments(tmp_path)

        # Queried afresh at each poll: a QuerySet keeps the rows of its first evaluation, and the
        # last segment is registered only as the muxer exits, a few ms after the publisher does.
        def registered() -> set[int]:
            return set(segments.values_list("seq", flat=True))

        assert until(lambda: closed <= registered(), 30), (
            f"never registered: {closed - registered()}\n{(tmp_path / 'ingest.log').read_text()[-4000:]}"
        )
        assert until(lambda: not segments.exclude(state="done").exists(), 120), (
            f"not analysed: {list(segments.exclude(state='done').values_list('seq', 'state', 'state_reason'))}"
        )
    finally:
        for process in reversed(processes):
            stop(process, signal.SIGKILL)

    seqs = list(segments.values_list("seq", flat=True))
    assert len(seqs) == len(set(seqs)) and closed <= set(seqs)  # each once
    for segment in segments:
        pts = list(FrameAnalysis.objects.filter(segment=segment).values_list("pts", flat=True))
        assert pts and len(pts) == len(set(pts)), f"segment {segment.seq}: frames {pts}"  # analysed once
