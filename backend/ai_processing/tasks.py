"""Celery tasks: thin wrappers that take IDs and call the pipeline."""

from celery import shared_task

from ai_processing.pipeline import OUTAGES, segment_analyze, segment_logos_recheck


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # The database or the broker blinked: try again. A retry the broker refuses ends the
    # task; the segment, back to pending, is then the sweep's (ai_processing.sweep).
    autoretry_for=OUTAGES,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def analyze_segment(
    segment_id: int, analyzers: list[str] | None = None, owns_state: bool = True, dispatched_at: float | None = None
) -> str:
    return segment_analyze(segment_id, analyzers, owns_state, dispatched_at=dispatched_at)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=OUTAGES, retry_backoff=2, max_retries=5)
def build_brand_verifier(brand_id: int) -> None:
    from ai_processing.services import brand_verifier_build

    brand_verifier_build(brand_id=brand_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=OUTAGES, retry_backoff=2, max_retries=5)
def recheck_segment_logos(segment_id: int) -> str:
    return segment_logos_recheck(segment_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=OUTAGES, retry_backoff=2, max_retries=5)
def backfill_segment(segment_id: int) -> str:
    """A segment realtime mode skipped as stale, analysed for the record (batch queue)."""
    return segment_analyze(segment_id, backfill=True)
