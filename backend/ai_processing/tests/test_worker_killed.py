"""Services mode: a Celery worker killed in the middle of a job. The broker hands the
unacknowledged task to the next worker, which finishes it, and the results are stored
exactly once."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from ai_processing.frames import frames_sampled
from ai_processing.models import FrameAnalysis
from ai_processing.tasks import analyze_segment
from ai_processing.tests.test_pipeline import segment_with_frames
from ai_processing.tests.test_text import frame_with_text
from media_analyzer.celery import app
from media_analyzer.tests.waits import until
from streaming.models import MediaSegment

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]
BACKEND = Path(__file__).resolve().parents[2]
REDELIVERY_S = 3


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(data_dir: Path, **extra_env: str) -> subprocess.Popen:
    """A real worker process on this test's database, as a deployment runs one."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development",
        "DATABASE_URL": database_url(),
        "MEDIA_ANALYZER_DATA_DIR": str(data_dir),
        "TASK_REDELIVERY_S": str(REDELIVERY_S),
        "ANALYZERS": "text",
        **extra_env,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "media_analyzer", "worker", "-Q", "realtime,batch", "-c", "1",
         "--without-gossip", "--without-mingle", "-l", "info"],
        cwd=BACKEND, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert worker.stderr is not None
    for line in worker.stderr:  # bounded by the test's timeout
        if " ready." in line:
            return worker
    raise RuntimeError("the worker exited before it was ready")


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(timeout=30)


def test_a_task_whose_worker_is_killed_mid_job_is_redelivered_and_completes_once(settings, tmp_path, stream):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    frames = [frame_with_text((f"BRAND {index}", (100, 300))) for index in range(30)]
    name = segment_with_frames(settings.MEDIA_ROOT, frames)
    expected = sum(1 for _ in frames_sampled(str(settings.MEDIA_ROOT / name), 10.0))
    stream.enabled_analyzers, stream.processing_mode, stream.sampling_fps = ["text"], "batch", 5  # OCR: slow
    stream.save()
    segment = MediaSegment.objects.create(
        stream=stream, seq=0, file=name, duration=2.0, start_pts=0.0, bytes=1, program_date_time=timezone.now()
    )
    app.control.purge()
    first = start_worker(tmp_path)
    try:
        analyze_segment.apply_async(args=[segment.pk], queue="batch")
        state = MediaSegment.objects.filter(pk=segment.pk).values_list("state", flat=True)
        assert until(lambda: state.get() == "analyzing", 60), "the first worker never started the job"
    finally:
        stop(first, signal.SIGKILL)  # mid-job: no ack, no cleanup
    assert state.get() == "analyzing" and not FrameAnalysis.objects.filter(segment=segment).exists()

    second = start_worker(tmp_path)
    try:
        assert until(lambda: state.get() == "done", 120), f"not redelivered: {state.get()}"
    finally:
        stop(second)
        app.control.purge()

    assert FrameAnalysis.objects.filter(segment=segment).count() == expected
    assert all(f.detections.filter(kind="text").exists() for f in FrameAnalysis.objects.filter(segment=segment))
