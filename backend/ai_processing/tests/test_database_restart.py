"""Services mode: PostgreSQL restarts (immediate: every connection dropped, crash recovery)
while a worker is in the middle of a job. The job's outage is retried, never recorded as
the segment's failure, and the segment ends done once, its results stored once.

The machine's PostgreSQL is shared and never restarted: this test runs its own server on
a free port, as the `postgres` OS user (the server refuses root), and drives the worker,
the ingest (and its sweep) and every query through subprocesses and that server. The
test database of pytest-django is not used."""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from ai_processing.tests.test_sweep_services import service_env, start_ingest, start_redis
from ai_processing.tests.test_worker_killed import BACKEND, start_worker, stop
from media_analyzer.tests.net import free_port
from media_analyzer.tests.waits import until

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]
PG_BIN = Path("/usr/local/bin")
LEASE_S = "20"

SETUP = """
import json
from pathlib import Path
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from ai_processing.dispatch import segment_dispatch
from ai_processing.frames import frames_sampled
from ai_processing.tests.test_pipeline import segment_with_frames
from ai_processing.tests.test_text import frame_with_text
from streaming.models import MediaSegment
from streaming.services import stream_create

root = Path(settings.MEDIA_ROOT)
root.mkdir(parents=True, exist_ok=True)
user = get_user_model().objects.create_user(username="alice", password="correct horse battery")
stream = stream_create(owner=user, name="Main camera")[0]
stream.enabled_analyzers, stream.processing_mode, stream.sampling_fps = ["text"], "batch", 2
stream.save()
frames = [frame_with_text((f"BRAND {index}", (100, 300))) for index in range(30)]
name = segment_with_frames(root, frames)
expected = sum(1 for _ in frames_sampled(str(root / name), 4.0))  # batch samples at twice the rate
segment = MediaSegment.objects.create(stream=stream, seq=0, file=name, duration=2.0, start_pts=0.0, bytes=1,
                                      program_date_time=timezone.now())
segment_dispatch(MediaSegment.objects.select_related("stream").get(pk=segment.pk))
print(json.dumps({"segment": segment.pk, "expected": expected}))
"""

RESULTS = """
import json
from ai_processing.models import Detection, FrameAnalysis
from streaming.models import MediaSegment

segment = MediaSegment.objects.get(pk=%d)
text = Detection.objects.filter(frame__segment=segment, kind="text")
print(json.dumps({"state": segment.state, "reason": segment.state_reason, "attempts": segment.attempts,
                  "lease": segment.lease_until is not None,
                  "frames": FrameAnalysis.objects.filter(segment=segment).count(),
                  "text": text.count(), "distinct_text": text.values("frame", "label").distinct().count()}))
"""


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a directory of its own."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="media-analyzer-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/media_analyzer"
        account = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if account is not None:
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if account is not None else []

    def _pg(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self._as_postgres, *args], check=True, timeout=timeout, capture_output=True, stdin=subprocess.DEVNULL
        )

    def _options(self) -> str:
        return f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start(self) -> None:
        self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", self._options(), "-l", str(self.root / "log"),
                 "-w", "start")  # fmt: skip
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE media_analyzer")

    def restart_immediately(self) -> None:
        """Every backend killed, crash recovery on start: the clients' connections are gone."""
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-o", self._options(),
                 "-l", str(self.root / "log"), "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, name: str = "media_analyzer") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def value(self, query: str, *params):
        """One value, or None while the server is out of reach."""
        try:
            with psycopg.connect(self.dsn(), connect_timeout=2) as conn:
                row = conn.execute(query, params).fetchone()
        except psycopg.OperationalError:
            return None
        return row[0] if row else None


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BACKEND, env=env, timeout=120, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_postgres_restarted_mid_job_never_fails_the_segment_and_it_is_done_once(tmp_path):
    postgres = PrivatePostgres()
    processes: list[subprocess.Popen] = []
    try:
        postgres.start()
        redis_port = free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        processes.append(start_redis(redis_port))
        env = service_env(tmp_path, redis_url, DATABASE_URL=postgres.url)
        manage(env, "migrate", "--no-input")

        processes.append(
            start_worker(tmp_path, DATABASE_URL=postgres.url, REDIS_URL=redis_url, SEGMENT_LEASE_S=LEASE_S)
        )
        processes.append(start_ingest(tmp_path, redis_url, DATABASE_URL=postgres.url)[0])
        created = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        segment, expected = created["segment"], created["expected"]

        def state():
            return postgres.value("SELECT state FROM streaming_mediasegment WHERE id = %s", segment)

        assert until(lambda: state() == "analyzing", 60, 0.02), f"the worker never started the job: {state()}"
        stored = postgres.value("SELECT count(*) FROM ai_processing_frameanalysis WHERE segment_id = %s", segment)
        postgres.restart_immediately()  # mid-job: the worker's, the sweep's connections all dropped
        assert stored == 0, "the job stored its results before the restart: the fault came too late"

        assert until(lambda: state() in ("done", "failed", "skipped"), 180, 0.2), f"the job never ended: {state()}"
        results = json.loads(manage(env, "shell", "-c", RESULTS % segment).strip().splitlines()[-1])
    finally:
        for process in reversed(processes):
            stop(process, signal.SIGKILL)
        postgres.stop()

    assert results["state"] == "done", results
    assert "fail" not in results["reason"] and not results["lease"], results
    assert results["frames"] == expected, results
    assert results["text"] and results["text"] == results["distinct_text"], results  # stored once
