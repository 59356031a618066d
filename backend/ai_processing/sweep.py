"""The sweep: the database, not the broker or an in-process queue, says what work is left.

It dispatches again the segments that a lost dispatch (broker down at registration), a lost
message (Redis restarted without persistence, a process restarted with jobs in its pool) or
a dead job (its lease ran out) left `pending` or `analyzing`. It runs beside the ingest, one
per deployment (`sweep_loop`): in the web process in embedded mode, in `manage.py ingest` in
services mode. Each row is taken with a conditional update, so two sweeps never both
dispatch it; a duplicate dispatch is harmless anyway (jobs are idempotent).

Each pass also fails the uploads whose remux was lost (streaming.uploads.uploads_sweep):
streaming runs no loop of its own beside the ingest, and must not import this app."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from ai_processing.dispatch import logos_recheck_dispatch, segment_dispatch
from ai_processing.pipeline import AWAITING_VERIFIERS, OUTAGES
from ai_processing.services import segment_end_announce
from media_analyzer.sweeps import sweep_forever
from streaming.models import MediaSegment
from streaming.uploads import uploads_sweep

logger = logging.getLogger(__name__)
State = MediaSegment.State
BATCH = 200  # rows per pass: a long outage's backlog goes out over a few passes
BACKOFF_CAP = 20  # a pending segment waits at most this many pending bounds between dispatches
# A segment waiting for its logo recheck holds no lease (no job holds it: the verifiers are
# being built, 20 brands in about a minute here). Past this, its recheck is queued again.
RECHECK_BOUND_S = 300


def segments_sweep() -> int:
    """One pass; returns how many segments it dispatched again."""
    now = timezone.now()
    _expired_leases_requeue(now)
    return _pending_redispatch(now) + _lost_rechecks_redispatch(now)


def _expired_leases_requeue(now: datetime) -> None:
    """`analyzing` past its lease: the job that held it is gone (killed, or its task lost).
    Back to pending, due now, one attempt counted; after the last attempt, failed."""
    limit = settings.CONFIG.segment_max_attempts
    expired = MediaSegment.objects.filter(state=State.ANALYZING, lease_until__lt=now)
    for pk, attempts, lease in expired.values_list("pk", "attempts", "lease_until")[:BATCH]:
        held = MediaSegment.objects.filter(pk=pk, state=State.ANALYZING, lease_until=lease)
        if attempts + 1 < limit:
            if held.update(state=State.PENDING, attempts=attempts + 1, lease_until=now, updated_at=now):
                logger.warning(
                    "segment %s: its job stopped without finishing; dispatching it again (attempt %d of %d)",
                    pk,
                    attempts + 2,
                    limit,
                )
            continue
        reason = f"gave up: {attempts + 1} jobs took this segment and stopped without finishing (worker killed or hung)"
        if held.update(
            state=State.FAILED, attempts=attempts + 1, lease_until=None, state_reason=reason, updated_at=now
        ):
            logger.error("segment %s failed: %s", pk, reason)
            if (segment := MediaSegment.objects.filter(pk=pk).first()) is not None:
                segment_end_announce(segment, State.FAILED, reason)


def _pending_redispatch(now: datetime) -> int:
    """`pending` past its due time (or, never dispatched again, past the bound since it was
    registered): its dispatch or its message was lost. Dispatched again, and due again after
    as long as it has waited, so a long backlog is not flooded with copies."""
    bound = settings.CONFIG.segment_pending_bound_s
    due = Q(lease_until__lte=now) | Q(lease_until__isnull=True, created_at__lt=now - timedelta(seconds=bound))
    dispatched = 0
    for segment in (
        MediaSegment.objects.filter(due, state=State.PENDING).select_related("stream").order_by("created_at")[:BATCH]
    ):
        waited = max(bound, (now - segment.created_at).total_seconds())
        next_due = now + timedelta(seconds=min(waited, BACKOFF_CAP * bound))
        taken = MediaSegment.objects.filter(pk=segment.pk, state=State.PENDING, lease_until=segment.lease_until)
        if not taken.update(lease_until=next_due):
            continue  # another sweep, or a job, took it meanwhile
        try:
            segment_dispatch(segment)
        except OUTAGES:  # the rest would wait on the same broker: the next pass tries again
            logger.warning("segment %s not dispatched again: the broker is out of reach", segment.pk, exc_info=True)
            break
        except Exception:
            logger.exception("segment %s not dispatched again", segment.pk)
            continue
        dispatched += 1
    return dispatched


def _lost_rechecks_redispatch(now: datetime) -> int:
    """`analyzing`, no lease, waiting for its logo recheck past the bound: the recheck's
    message was lost (or its worker killed). Queued again; updated_at marks when."""
    waiting = MediaSegment.objects.filter(
        state=State.ANALYZING,
        lease_until__isnull=True,
        state_reason__contains=AWAITING_VERIFIERS,
        updated_at__lt=now - timedelta(seconds=RECHECK_BOUND_S),
    )
    dispatched = 0
    for pk, updated in waiting.values_list("pk", "updated_at")[:BATCH]:
        if not MediaSegment.objects.filter(pk=pk, state=State.ANALYZING, updated_at=updated).update(updated_at=now):
            continue
        try:
            logos_recheck_dispatch(pk)
        except OUTAGES:
            logger.warning(
                "segment %s: its logo recheck not queued again: the broker is out of reach", pk, exc_info=True
            )
            break
        dispatched += 1
    return dispatched


def _sweep_once() -> int:
    """One pass of both sweeps; returns how many segments it dispatched again."""
    close_old_connections()  # a connection the database dropped (restart, outage) is opened afresh
    try:
        swept = segments_sweep()
        uploads_sweep()  # logs each upload it fails
        return swept
    finally:
        close_old_connections()


async def sweep_loop() -> None:
    await sweep_forever(_sweep_once, "lost segments")
