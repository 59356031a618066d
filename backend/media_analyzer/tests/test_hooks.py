"""The seam between apps (media_analyzer.hooks): who emits, who subscribes, and that a
hand-off through a hook behaves as the direct call it replaced."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from ai_processing.hooks import ResultsStored, results_stored
from media_analyzer.hooks import Hook, Registry
from streaming.hooks import SegmentRegistered, ingest_loops, segment_registered


def test_emit_runs_every_subscriber_in_the_order_they_subscribed():
    hook: Hook[int] = Hook("numbers")
    calls = []
    first, second = (lambda n: calls.append(("first", n))), (lambda n: calls.append(("second", n)))
    hook.subscribe(first)
    hook.subscribe(second)
    hook.subscribe(first)  # ready() may run more than once: still one call each

    hook.emit(7)

    assert calls == [("first", 7), ("second", 7)]


def test_a_subscribers_exception_reaches_the_emitter_and_stops_the_rest():
    hook: Hook[int] = Hook("numbers")
    calls = []

    def broken(n):
        raise ValueError(n)

    hook.subscribe(broken)
    hook.subscribe(calls.append)

    with pytest.raises(ValueError):
        hook.emit(1)
    assert calls == []


def test_a_registry_keeps_its_items_in_order_once_each():
    loops = Registry("loops")
    for item in ("stats", "sweep", "stats"):
        loops.add(item)

    assert list(loops) == ["stats", "sweep"]


def test_the_downstream_apps_subscribe_at_start_up():
    from ai_processing.dispatch import segment_registered_dispatch
    from ai_processing.stats import stats_loop
    from ai_processing.sweep import sweep_loop
    from exposure.services import results_stored_record
    from exposure.webhooks import deliveries_sweep_loop

    assert list(segment_registered.subscribers) == [segment_registered_dispatch]
    assert list(results_stored.subscribers) == [results_stored_record]
    # started in this order beside the ingest
    assert list(ingest_loops) == [stats_loop, sweep_loop, deliveries_sweep_loop]


@pytest.fixture
def recorded(monkeypatch):
    """The hooks' subscribers replaced by a recorder, for the test's duration."""
    seen = []
    for hook in (segment_registered, results_stored):
        monkeypatch.setattr(hook, "subscribers", Registry(hook.name))
        hook.subscribe(seen.append)
    return seen


@pytest.mark.django_db
def test_a_registered_segment_is_handed_on_only_at_commit(stream, recorded, django_capture_on_commit_callbacks):
    from streaming.services import segment_register

    with django_capture_on_commit_callbacks() as callbacks:
        segment = segment_register(
            stream_id=stream.pk, seq=0, name="segments/0.ts", duration=2.0, program_date_time=timezone.now(), size=1
        )
        assert recorded == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert recorded == [SegmentRegistered(segment)]


@pytest.mark.django_db
def test_an_exposure_failure_never_fails_the_segment(stream, monkeypatch, caplog):
    """The pipeline contains what its results_stored subscriber raises, as it did the direct call."""
    from ai_processing import pipeline
    from streaming.models import MediaSegment

    segment = MediaSegment.objects.create(
        stream=stream,
        seq=0,
        file="segments/0.ts",
        duration=2.0,
        start_pts=0.0,
        bytes=1,
        program_date_time=timezone.now() - timedelta(seconds=2),
    )
    handed = []

    def broken(event):
        handed.append(event)
        raise RuntimeError("exposure down")

    monkeypatch.setattr(results_stored, "subscribers", Registry(results_stored.name))
    results_stored.subscribe(broken)

    with caplog.at_level(logging.ERROR, logger="ai_processing.pipeline"):
        pipeline._results_stored_emit(segment, {7: b"jpeg"}, fps=2.0)

    assert handed == [ResultsStored(segment=segment, interval_s=0.5, thumbnails={7: b"jpeg"})]
    assert "brand exposure of segment" in caplog.text
