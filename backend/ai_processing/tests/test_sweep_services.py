"""Services mode: work lost with the broker comes back. A worker killed mid-job while its
Redis (no persistence) restarts loses the task; the sweep, beside the ingest, dispatches the
segment again once the job's lease runs out. Redis down mid-job never fails the segment.

Each test runs its own redis-server on a free port: the machine's shared Redis is never
restarted."""

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db.models import Q
from django.utils import timezone

from ai_processing.frames import frames_sampled
from ai_processing.models import Detection, FrameAnalysis
from ai_processing.tests.test_pipeline import segment_with_frames
from ai_processing.tests.test_text import frame_with_text
from ai_processing.tests.test_worker_killed import BACKEND, database_url, start_worker, stop
from media_analyzer.tests.net import free_port
from media_analyzer.tests.waits import until
from streaming.models import MediaSegment

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
LEASE_S = "20"  # the workers' lease, above loading the OCR model and one chunk: a dead job is noticed this soon


def start_redis(port: int) -> subprocess.Popen:
    """A private Redis without persistence: a restart loses every queued and unacked task."""
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    client = redis.Redis(port=port, socket_timeout=1)
    assert until(lambda: _pings(client), 10), "redis-server did not start"
    return server


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


def service_env(data_dir: Path, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "MEDIA_ANALYZER_DATA_DIR": str(data_dir),
        **extra,
    }


def dispatch_via(data_dir: Path, redis_url: str, segment: MediaSegment) -> None:
    """The ingest's dispatch of a new segment, to the private Redis (this process's Celery
    app is bound to the shared one)."""
    code = (
        "from ai_processing.dispatch import segment_dispatch; from streaming.models import MediaSegment; "
        f"segment_dispatch(MediaSegment.objects.select_related('stream').get(pk={segment.pk}))"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BACKEND,
        env=service_env(data_dir, redis_url),
        check=True,
        timeout=60,
        capture_output=True,
    )


def start_ingest(data_dir: Path, redis_url: str, **env: str) -> tuple[subprocess.Popen, int]:
    """`manage.py ingest` (which runs the sweep in services mode) with short sweep bounds,
    and its RTMP port."""
    env = service_env(
        data_dir, redis_url, RTMP_PORT="0", SEGMENT_SWEEP_INTERVAL_S="0.5", SEGMENT_PENDING_BOUND_S="2", **env
    )
    with (data_dir / "ingest.log").open("a") as log:  # its logs, for a failing test to show
        ingest = subprocess.Popen(
            [sys.executable, "manage.py", "ingest"],
            cwd=BACKEND,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    assert ingest.stdout is not None
    for line in ingest.stdout:  # bounded by the test's timeout
        if "listening on port" in line:
            return ingest, int(line.rsplit(" ", 1)[1])
    raise RuntimeError("the ingest exited before it was listening")


@pytest.fixture
def slow_segment(settings, tmp_path, stream):
    """A pending batch segment with text on every frame: one chunk of OCR, seconds per job."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    frames = [frame_with_text((f"BRAND {index}", (100, 300))) for index in range(30)]
    name = segment_with_frames(settings.MEDIA_ROOT, frames)
    stream.enabled_analyzers, stream.processing_mode, stream.sampling_fps = ["text"], "batch", 2
    stream.save()
    expected = sum(1 for _ in frames_sampled(str(settings.MEDIA_ROOT / name), 4.0))  # batch samples at twice the rate
    segment = MediaSegment.objects.create(
        stream=stream, seq=0, file=name, duration=2.0, start_pts=0.0, bytes=1, program_date_time=timezone.now()
    )
    return segment, expected


@contextmanager
def job_running(tmp_path: Path, segment: MediaSegment, lease_s: str):
    """A private Redis, a worker on it, and the segment's job under way: yields the Redis
    port and URL and the processes (redis, worker; a test may replace or add some), all
    killed after."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    state = MediaSegment.objects.filter(pk=segment.pk).values_list("state", flat=True)
    processes = [start_redis(port)]
    try:
        processes.append(start_worker(tmp_path, REDIS_URL=url, SEGMENT_LEASE_S=lease_s))
        dispatch_via(tmp_path, url, segment)
        assert until(lambda: state.get() == "analyzing", 60), f"the worker never started the job: {state.get()}"
        yield port, url, processes
    finally:
        for process in reversed(processes):
            stop(process, signal.SIGKILL)


def test_a_job_lost_with_its_worker_and_redis_is_dispatched_again_by_the_sweep_and_done_once(tmp_path, slow_segment):
    segment, expected = slow_segment
    state = MediaSegment.objects.filter(pk=segment.pk).values_list("state", flat=True)
    with job_running(tmp_path, segment, LEASE_S) as (port, url, processes):
        stop(processes[1], signal.SIGKILL)  # mid-job: no ack, no cleanup
        stop(processes[0], signal.SIGKILL)  # and the unacked task goes with Redis
        processes[0] = start_redis(port)
        assert state.get() == "analyzing" and not FrameAnalysis.objects.filter(segment=segment).exists()

        processes[1] = start_worker(tmp_path, REDIS_URL=url, SEGMENT_LEASE_S=LEASE_S)
        processes.append(start_ingest(tmp_path, url)[0])
        assert until(lambda: state.get() == "done", 120), f"not dispatched again: {state.get()}"

    segment.refresh_from_db()
    assert segment.attempts == 1 and segment.lease_until is None
    assert FrameAnalysis.objects.filter(segment=segment).count() == expected
    text = Detection.objects.filter(frame__segment=segment, kind="text")
    assert text.exists() and text.count() == text.values("frame", "label").distinct().count()  # stored once


def test_redis_down_mid_job_never_fails_the_segment(tmp_path, slow_segment):
    segment, expected = slow_segment
    with job_running(tmp_path, segment, "30") as (_, _, processes):
        stop(processes[0], signal.SIGKILL)  # the broker and the channel layer go while the job runs
        # The job's last write: its trace once the results are stored, or a failure.
        ended = MediaSegment.objects.filter(pk=segment.pk).filter(Q(state="failed") | ~Q(trace={}))
        assert until(ended.exists, 120), "the job never finished"
        segment.refresh_from_db()
        assert segment.state == "done", segment.state_reason  # its events are lost; its results are not
        assert FrameAnalysis.objects.filter(segment=segment).count() == expected
