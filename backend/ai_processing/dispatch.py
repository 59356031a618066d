"""The dispatcher: where a registered segment's analysis job runs.

Embedded mode: a small in-process thread pool, so results reach the in-memory channel
layer of the same process. Services mode: Celery, realtime and batch on their own queues,
and analyzers that ask for a queue of their own (visual) in a second job on it, which adds
its results to the same frames."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import close_old_connections

from ai_processing.analyzers.registry import analyzers_by_queue
from media_analyzer.pools import BackgroundPool
from streaming.hooks import SegmentRegistered
from streaming.models import MediaSegment, Stream

logger = logging.getLogger(__name__)


def segment_registered_dispatch(event: SegmentRegistered) -> None:
    """Subscribed to streaming's `segment_registered` (AiProcessingConfig.ready)."""
    segment_dispatch(event.segment)


def segment_dispatch(segment: MediaSegment) -> None:
    stream = segment.stream
    strategy_queue = "batch" if stream.processing_mode == Stream.Mode.BATCH else "realtime"
    dispatched_at = time.time()  # the trace's "dispatch" (registered to here) and "queue" (here to started)
    if settings.CELERY_BROKER_URL:
        from ai_processing.tasks import analyze_segment

        for queue, names in analyzers_by_queue(stream.enabled_analyzers, strategy_queue).items():
            analyze_segment.apply_async(args=[segment.pk, names, queue == strategy_queue, dispatched_at], queue=queue)
    else:
        _POOL.submit(_run_in_pool, segment.pk, False, dispatched_at)


def segment_backfill_dispatch(segment_id: int) -> None:
    """A segment realtime mode skipped as stale, analysed for the record: on the batch queue,
    or in process one at a time beside the live jobs."""
    if settings.CELERY_BROKER_URL:
        from ai_processing.tasks import backfill_segment

        backfill_segment.apply_async(args=[segment_id], queue="batch")
    else:
        _BACKFILL.submit(_run_in_pool, segment_id, True)


_POOL = BackgroundPool("analysis", lambda: settings.CONFIG.analysis_threads)
_BACKFILL = BackgroundPool("backfill", lambda: 1)  # the record waits; live analysis keeps the cores
_VERIFIERS = BackgroundPool("verifiers", lambda: 1)  # one build at a time: analysis keeps a core


def pool_drain() -> None:
    from streaming.uploads import upload_pool_drain

    upload_pool_drain()  # first: its remuxes register segments, whose analysis goes to _POOL
    _POOL.drain()  # then: its jobs queue backfills, and logo rechecks behind the verifier builds
    _BACKFILL.drain()  # whose jobs queue logo rechecks too
    _VERIFIERS.drain()


def verifier_dispatch(brand_id: int) -> None:
    """Builds a brand's logo verifier off the request: on the batch queue, or in process."""
    if settings.CELERY_BROKER_URL:
        from ai_processing.tasks import build_brand_verifier

        build_brand_verifier.apply_async(args=[brand_id], queue="batch")
    else:
        _VERIFIERS.submit(_build_in_pool, brand_id)


def logos_recheck_dispatch(segment_id: int) -> None:
    """Queues a second logo pass over a segment behind the verifier builds: on the batch
    queue, or in process after the builds queued so far (one thread, in order)."""
    if settings.CELERY_BROKER_URL:
        from ai_processing.tasks import recheck_segment_logos

        recheck_segment_logos.apply_async(args=[segment_id], queue="batch")
    else:
        _VERIFIERS.submit(_recheck_in_pool, segment_id)


def _recheck_in_pool(segment_id: int) -> None:
    from ai_processing.pipeline import segment_logos_recheck

    try:
        segment_logos_recheck(segment_id)
    except Exception:
        logger.exception("segment %s could not be rechecked for logos", segment_id)
    finally:
        close_old_connections()


def _build_in_pool(brand_id: int) -> None:
    from ai_processing.services import brand_verifier_build

    try:
        brand_verifier_build(brand_id=brand_id)
    except Exception:
        logger.exception("the logo verifier of brand %s could not be built", brand_id)
    finally:
        close_old_connections()


POOL_RETRY_DELAYS_S = (1.0, 4.0)  # an outage: try again after these; then the sweep's


def _run_in_pool(segment_id: int, backfill: bool = False, dispatched_at: float | None = None) -> None:
    from ai_processing.pipeline import OUTAGES, segment_analyze

    for delay in (*POOL_RETRY_DELAYS_S, None):
        try:
            segment_analyze(segment_id, backfill=backfill, dispatched_at=dispatched_at)
            return
        except OUTAGES:  # the segment went back to pending: nothing wrong with it
            if delay is None:
                logger.exception("analysis of segment %s could not finish: left for the sweep", segment_id)
                return
            logger.warning("analysis of segment %s hit an outage; trying again in %s s", segment_id, delay)
        except Exception:
            logger.exception("analysis of segment %s could not finish", segment_id)
            return
        finally:
            close_old_connections()
        time.sleep(delay)
