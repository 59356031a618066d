"""Lost work comes back: the sweep dispatches again the segments a lost dispatch, a dead
worker or a broker outage left pending or analyzing, and outages never fail a segment."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from ai_processing import dispatch
from ai_processing.models import FrameAnalysis
from ai_processing.pipeline import segment_analyze
from ai_processing.tests.test_pipeline import make_segment, segment_file  # noqa: F401 (fixture)
from streaming.models import MediaSegment
from streaming.services import segment_register

pytestmark = pytest.mark.django_db
State = MediaSegment.State


@pytest.fixture
def bounds(settings):
    settings.CONFIG = settings.CONFIG.model_copy(
        update={"segment_lease_s": 60.0, "segment_pending_bound_s": 30.0, "segment_max_attempts": 3}
    )
    return settings.CONFIG


@pytest.fixture
def dispatched(monkeypatch):
    """The sweep's dispatcher, running each job inline: the ids it was handed, in order."""
    import ai_processing.sweep

    handed: list[int] = []

    def run(segment):
        handed.append(segment.pk)
        segment_analyze(segment.pk)

    monkeypatch.setattr(ai_processing.sweep, "segment_dispatch", run)
    return handed


def aged(segment, **fields):
    """Rewrites the row as an earlier moment left it (created_at is set on insert only)."""
    MediaSegment.objects.filter(pk=segment.pk).update(**fields)
    segment.refresh_from_db()
    return segment


def sweep() -> int:
    from ai_processing.sweep import segments_sweep

    return segments_sweep()


def test_a_pending_segment_older_than_the_bound_is_dispatched_again_and_analysed(
    stream, segment_file, bounds, dispatched
):
    lost = aged(make_segment(stream, segment_file), created_at=timezone.now() - timedelta(seconds=31))
    recent = make_segment(stream, segment_file, seq=1)

    assert sweep() == 1

    assert dispatched == [lost.pk]
    lost.refresh_from_db()
    assert lost.state == State.DONE and lost.lease_until is None
    assert FrameAnalysis.objects.filter(segment=lost).count() == 4
    assert MediaSegment.objects.get(pk=recent.pk).state == State.PENDING  # its dispatch may still arrive


def test_a_pending_segment_just_dispatched_again_waits_longer_before_the_next_try(
    stream, segment_file, bounds, monkeypatch
):
    import ai_processing.sweep

    def broker_down(segment):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(ai_processing.sweep, "segment_dispatch", broker_down)
    lost = aged(make_segment(stream, segment_file), created_at=timezone.now() - timedelta(seconds=100))

    assert sweep() == 0  # the broker refused it: left for the next sweep, not failed
    lost.refresh_from_db()
    assert lost.state == State.PENDING and lost.attempts == 0
    assert lost.lease_until - timezone.now() > timedelta(seconds=90)  # backs off as long as it waited
    assert sweep() == 0


def test_an_analyzing_segment_whose_lease_ran_out_is_dispatched_again(stream, segment_file, bounds, dispatched):
    dead = aged(
        make_segment(stream, segment_file), state=State.ANALYZING, lease_until=timezone.now() - timedelta(seconds=1)
    )

    assert sweep() == 1

    dead.refresh_from_db()
    assert dispatched == [dead.pk]
    assert dead.state == State.DONE and dead.attempts == 1
    assert FrameAnalysis.objects.filter(segment=dead).count() == 4


def test_a_live_lease_is_left_alone(stream, segment_file, bounds, dispatched):
    busy = aged(
        make_segment(stream, segment_file),
        state=State.ANALYZING,
        lease_until=timezone.now() + timedelta(seconds=20),
        created_at=timezone.now() - timedelta(hours=1),
    )
    awaiting = aged(  # a logo recheck to come, no job holds it
        make_segment(stream, segment_file, seq=1),
        state=State.ANALYZING,
        lease_until=None,
        created_at=timezone.now() - timedelta(hours=1),
    )

    assert sweep() == 0

    assert dispatched == []
    assert MediaSegment.objects.get(pk=busy.pk).state == State.ANALYZING
    assert MediaSegment.objects.get(pk=awaiting.pk).state == State.ANALYZING


def test_a_logo_recheck_lost_past_its_bound_is_queued_again(stream, segment_file, bounds, monkeypatch):
    import ai_processing.sweep
    from ai_processing.pipeline import AWAITING_VERIFIERS
    from ai_processing.sweep import RECHECK_BOUND_S

    queued: list[int] = []
    monkeypatch.setattr(ai_processing.sweep, "logos_recheck_dispatch", queued.append)
    past = timezone.now() - timedelta(seconds=RECHECK_BOUND_S + 1)
    lost = aged(
        make_segment(stream, segment_file),
        state=State.ANALYZING,
        lease_until=None,
        state_reason=AWAITING_VERIFIERS,
        updated_at=past,
    )
    recent = aged(
        make_segment(stream, segment_file, seq=1),
        state=State.ANALYZING,
        lease_until=None,
        state_reason=AWAITING_VERIFIERS,
        updated_at=timezone.now(),
    )

    assert sweep() == 1
    assert queued == [lost.pk]
    assert sweep() == 0  # queued again only once per bound
    assert MediaSegment.objects.get(pk=recent.pk).state == State.ANALYZING


def test_a_segment_whose_jobs_keep_dying_fails_after_the_last_attempt(
    stream, segment_file, bounds, dispatched, monkeypatch
):
    from ai_processing import services

    sent, send = [], services.broadcast
    monkeypatch.setattr(
        services, "broadcast", lambda stream_id, message: (sent.append(message), send(stream_id, message))
    )
    poison = aged(
        make_segment(stream, segment_file),
        state=State.ANALYZING,
        attempts=2,
        lease_until=timezone.now() - timedelta(seconds=1),
    )

    assert sweep() == 0

    poison.refresh_from_db()
    assert dispatched == []
    assert poison.state == State.FAILED and poison.attempts == 3
    assert "3 jobs" in poison.state_reason and poison.lease_until is None
    assert [(m["type"], m["segment_seq"], m["state"], m["reason"]) for m in sent] == [
        ("analysis.segment", poison.seq, "failed", poison.state_reason)
    ]


def test_a_stale_realtime_segment_dispatched_again_ends_skipped(stream, segment_file, bounds, dispatched):
    stale = aged(
        make_segment(stream, segment_file, age_s=60),
        state=State.ANALYZING,
        lease_until=timezone.now() - timedelta(seconds=1),
    )

    assert sweep() == 1

    stale.refresh_from_db()
    assert stale.state == State.SKIPPED and stale.state_reason.startswith("stale")


def test_a_job_holds_its_segment_with_a_lease_and_releases_it_when_done(stream, segment_file, bounds, monkeypatch):
    from ai_processing import pipeline

    leases = []
    real = pipeline._run_analyzers

    def watching(*args):
        leases.append(MediaSegment.objects.values_list("state", "lease_until").get(pk=segment.pk))
        return real(*args)

    monkeypatch.setattr(pipeline, "_run_analyzers", watching)
    segment = make_segment(stream, segment_file)

    assert segment_analyze(segment.pk) == "done"

    state, lease = leases[0]
    assert state == State.ANALYZING and timedelta(seconds=50) < lease - timezone.now() <= timedelta(seconds=60)
    assert MediaSegment.objects.get(pk=segment.pk).lease_until is None


def test_a_broadcast_that_raises_after_the_results_are_stored_leaves_the_segment_done(
    stream, segment_file, monkeypatch, django_capture_on_commit_callbacks
):
    def redis_down(stream_id):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("media_analyzer.events.seq_next", redis_down)
    segment = make_segment(stream, segment_file)

    with django_capture_on_commit_callbacks(execute=True):
        state = segment_analyze(segment.pk)

    segment.refresh_from_db()
    assert (state, segment.state) == ("done", State.DONE), segment.state_reason
    assert FrameAnalysis.objects.filter(segment=segment).count() == 4


def test_a_broker_or_database_outage_mid_job_never_fails_the_segment(stream, segment_file, bounds, monkeypatch):
    from ai_processing import pipeline

    def broker_down(**kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(pipeline, "results_store", broker_down)
    segment = make_segment(stream, segment_file)

    with pytest.raises(BrokerError):  # for the task to retry
        segment_analyze(segment.pk)

    segment.refresh_from_db()
    assert segment.state == State.PENDING and segment.state_reason == ""  # the retry, or the sweep, takes it again
    assert segment.attempts == 0


def test_a_dispatch_that_raises_in_segment_register_leaves_the_segment_to_the_sweep(
    stream, segment_file, bounds, dispatched, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(dispatch._POOL, "submit", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        segment = segment_register(
            stream_id=stream.pk,
            seq=0,
            name=segment_file,
            duration=2.0,
            program_date_time=timezone.now() - timedelta(seconds=2),
            size=1,
        )

    assert MediaSegment.objects.get(pk=segment.pk).state == State.PENDING
    aged(segment, created_at=timezone.now() - timedelta(seconds=31))
    assert sweep() == 1
    assert MediaSegment.objects.get(pk=segment.pk).state == State.DONE


@pytest.mark.django_db(transaction=True)  # a pass opens and closes its own connections
def test_a_sweep_pass_fails_an_upload_whose_remux_was_lost(stream, settings, tmp_path):
    """The loop beside the ingest runs the uploads' sweep too (streaming runs no loop of its
    own): an upload `processing` past UPLOAD_STALL_S without progress, whose stored file is
    no video to queue again, ends failed (a readable one is queued again once: test_uploads)."""
    from ai_processing.sweep import _sweep_once
    from streaming.models import Stream
    from streaming.uploads import INTERRUPTED, upload_path, uploads_dir

    settings.CONFIG = settings.CONFIG.model_copy(update={"data_dir": tmp_path, "upload_stall_s": 600.0})
    settings.MEDIA_ROOT = settings.CONFIG.media_root
    uploads_dir().mkdir(parents=True)
    upload_path(stream.pk).write_bytes(b"video")
    (settings.CONFIG.hls_root / str(stream.pk)).mkdir(parents=True)
    (settings.CONFIG.hls_root / str(stream.pk) / "seg_000000.ts").write_bytes(b"partial")
    Stream.objects.filter(pk=stream.pk).update(
        status="processing", upload_progress=0.3, updated_at=timezone.now() - timedelta(seconds=601)
    )

    _sweep_once()

    stream.refresh_from_db()
    assert (stream.status, stream.status_reason) == ("failed", INTERRUPTED)
    assert not upload_path(stream.pk).exists() and not (settings.CONFIG.hls_root / str(stream.pk)).exists()
