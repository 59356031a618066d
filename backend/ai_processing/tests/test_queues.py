"""Analyzers that ask for a queue of their own (visual) run in a second job per segment in
services mode; it adds its results to the segment's frames and leaves the others' alone."""

import pytest

from ai_processing.analyzers.registry import analyzers_by_queue
from ai_processing.dispatch import segment_dispatch
from ai_processing.models import Detection, FrameAnalysis
from ai_processing.pipeline import segment_analyze
from ai_processing.tests.test_pipeline import make_segment, segment_with_frames
from ai_processing.tests.test_text import frame_with_text
from media_analyzer.tests.waits import until
from streaming.models import MediaSegment
from streaming.services import stream_update


def test_visual_has_a_queue_of_its_own_and_the_strategy_queue_always_has_a_job():
    assert analyzers_by_queue(["objects", "visual", "text"], "realtime") == {
        "realtime": ["objects", "text"],
        "visual": ["visual"],
    }
    assert analyzers_by_queue(["visual"], "batch") == {"batch": [], "visual": ["visual"]}


@pytest.fixture
def text_segment(stream, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    name = segment_with_frames(tmp_path, [frame_with_text(("BRAND", (100, 300)))] * 30)
    # OCR is not realtime: batch mode runs it (at twice the sampling rate: 4 frames)
    stream_update(stream=stream, enabled_analyzers=["text", "visual"], processing_mode="batch", sampling_fps=1)
    return make_segment(stream, name)


def counts(segment) -> dict[str, int]:
    found = Detection.objects.filter(frame__segment=segment)
    return {analyzer: found.filter(analyzer=analyzer).count() for analyzer in ("text", "visual")}


@pytest.mark.django_db
def test_a_job_that_adds_to_a_segment_keeps_the_other_jobs_results(text_segment):
    assert segment_analyze(text_segment.pk, ["text"]) == "done"
    read = counts(text_segment)["text"]
    assert read >= 4 and counts(text_segment)["visual"] == 0

    assert segment_analyze(text_segment.pk, ["visual"], owns_state=False) == "done"
    assert segment_analyze(text_segment.pk, ["visual"], owns_state=False) == "done"  # a redelivery replaces

    assert counts(text_segment) == {"text": read, "visual": 4}
    frames = FrameAnalysis.objects.filter(segment=text_segment)
    assert frames.count() == 4 and all({"text", "visual"} <= set(frame.timings) for frame in frames)
    assert segment_analyze(text_segment.pk, ["text"]) == "done"  # done is final for the owner
    assert counts(text_segment) == {"text": read, "visual": 4}


@pytest.mark.django_db
def test_a_job_that_adds_leaves_a_skipped_segment_alone(text_segment):
    MediaSegment.objects.filter(pk=text_segment.pk).update(state="skipped", state_reason="stale")

    assert segment_analyze(text_segment.pk, ["visual"], owns_state=False) == "skipped"
    assert not FrameAnalysis.objects.filter(segment=text_segment).exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_services_mode_runs_visual_on_the_visual_queue(text_segment):
    from celery.contrib.testing.worker import start_worker

    from media_analyzer.celery import app

    app.control.purge()
    worker = dict(pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=30)
    with start_worker(app, queues=["batch"], **worker):
        segment_dispatch(text_segment)
        until(lambda: MediaSegment.objects.get(pk=text_segment.pk).trace, 90, interval_s=0.2)  # its last write
    assert {"dispatch", "queue", "send"} <= set(MediaSegment.objects.get(pk=text_segment.pk).trace)  # through Celery
    read = counts(text_segment)["text"]
    assert read >= 4 and counts(text_segment)["visual"] == 0  # the visual job waits on its own queue

    with start_worker(app, queues=["visual"], **worker):
        until(lambda: counts(text_segment)["visual"] == 4, 90, interval_s=0.2)
    assert counts(text_segment) == {"text": read, "visual": 4}
    app.control.purge()
