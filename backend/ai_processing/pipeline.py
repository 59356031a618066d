"""One analysis job: a closed segment in, stored and published results out.

decode (PyAV) -> sample -> every enabled analyzer -> results_store -> `results_stored` (to
exposure, ai_processing.hooks). A job is idempotent:
a segment that is already done, skipped or failed is left alone, and a re-run (a worker
killed mid-task) replaces the segment's results in one transaction."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import av
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ai_processing.analyzers.base import (
    LOGOS_BEFORE_MAX_GAP_S,
    BrandName,
    Context,
    CorrectedLogo,
    Finding,
    Frame,
    LogoReference,
    StoredVerifier,
)
from ai_processing.analyzers.loaded import analyzer_get
from ai_processing.brand_matching import BrandMatcher
from ai_processing.dispatch import logos_recheck_dispatch, segment_backfill_dispatch
from ai_processing.evidence import thumbnail_jpeg
from ai_processing.frames import frames_sampled
from ai_processing.hooks import ResultsStored, results_stored
from ai_processing.models import Brand, BrandReferenceImage, FrameAnalysis, LogoCorrection
from ai_processing.selectors import logos_before
from ai_processing.services import LOGOS_AWAITED, results_store, segment_end_announce
from media_analyzer.metrics import FRAMES_ANALYSED, STAGE_SECONDS
from streaming.models import MediaSegment, Stream

logger = logging.getLogger(__name__)
State = MediaSegment.State
CHUNK_FRAMES = 16  # frames per analyzer call; the next chunk decodes meanwhile
# Realtime: a second of frames at 2 fps, so the analyzers start on the first half of a segment
# while its second half decodes (a 2 s segment was one chunk: analysis waited for all of it).
REALTIME_CHUNK_FRAMES = 2
AWAITING_VERIFIERS = "logos to be checked again once the brands' verifiers are built"
LOGOS = "logos"
# The database or the broker out of reach: nothing wrong with the segment. Such errors are
# retried (the task's backoff) and never recorded as its failure; the sweep is the backstop.
OUTAGES = (OperationalError, InterfaceError, BrokerError, RedisConnectionError, RedisTimeoutError)


def segment_analyze(
    segment_id: int,
    analyzers: list[str] | None = None,
    owns_state: bool = True,
    backfill: bool = False,
    dispatched_at: float | None = None,
) -> str:
    """Runs the job and returns the segment's final state. A poisoned segment ends
    `failed` with its reason; only outages (OUTAGES) propagate, for the task to retry.

    `analyzers`: the names this job runs (None: all the stream's). A job that does not own
    the segment's state (services mode's visual job) only adds its results to the frames.
    `backfill`: a segment realtime mode skipped as stale, analysed for the record (the
    stream's `backfill_skipped`), at the stream's sampling rate and with no lag bound.
    `dispatched_at`: when the dispatcher handed the job on (Unix time), for its trace."""
    segment = _claim(segment_id, backfill) if owns_state else _unfinished(segment_id)
    if segment is None:
        return MediaSegment.objects.filter(pk=segment_id).values_list("state", flat=True).first() or "missing"
    try:
        return _segment_run(segment, analyzers, owns_state, backfill, dispatched_at)
    except OUTAGES:
        if owns_state:
            _release(segment_id)
        raise
    except Exception as exc:
        logger.exception("analysis of segment %s crashed", segment_id)
        return _finish(segment, State.FAILED, f"internal error: {type(exc).__name__}: {exc}", owns_state)


@dataclass
class _SegmentFindings:
    """What one pass over a segment produced; images are dropped once analysed, so a
    segment never sits in memory whole."""

    pts: list[float] = field(default_factory=list)
    findings: list[list[tuple[str, Finding]]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # ms per analyzer, summed
    decode_s: float = 0.0  # waiting for decoded frames (decoding runs ahead on another thread)
    analyze_s: float = 0.0  # the analyzers together (they run at once; `timings` has each one's)
    errors: list[str] = field(default_factory=list)
    thumbnails: dict[int, bytes] = field(default_factory=dict)  # evidence: each brand's first sighting
    awaiting_verifiers: set[int] = field(default_factory=set)  # brands not looked for yet

    def per_frame_ms(self) -> dict[str, float]:
        return {key: round(total / max(len(self.pts), 1), 2) for key, total in self.timings.items()}


def _segment_run(segment: MediaSegment, names: list[str] | None, owns_state: bool, backfill: bool = False,
                 dispatched_at: float | None = None) -> str:  # fmt: skip
    started = timezone.now()
    stream = segment.stream
    reason = _reason_to_skip(segment, stream, lag_bound=not backfill)
    if reason:
        return _skipped(segment, reason, owns_state)
    names = stream.enabled_analyzers if names is None else [n for n in names if n in stream.enabled_analyzers]
    analyzers = [a for a in map(analyzer_get, names) if a and (a.realtime or _batch(stream))]
    plan = _Plan(_sampling_fps(stream)) if backfill else _plan(segment, stream, analyzers)
    try:
        with _leased(segment.pk) if owns_state else nullcontext():
            analysed = _findings_of(segment, [a for a in analyzers if a.key not in plan.left_out], fps=plan.fps)
    except (av.FFmpegError, OSError, IndexError) as exc:
        return _finish(segment, State.FAILED, f"cannot decode segment: {exc}", owns_state)
    if not analysed.pts:
        return _finish(segment, State.FAILED, "segment has no video frames", owns_state)
    timings = analysed.per_frame_ms()
    storing = time.perf_counter()
    # A brand not looked for yet (its verifier still building) leaves the segment analyzing
    # until the logo recheck: the API must not call results final that are not.
    awaiting = AWAITING_VERIFIERS if analysed.awaiting_verifiers else ""
    sent: dict[str, float] = {}
    results_store(
        segment=segment,
        pts=analysed.pts,
        findings=analysed.findings,
        timings=timings,
        analyzers=names,
        owns_state=owns_state,
        note="; ".join(filter(None, [*analysed.errors, plan.note, awaiting])),
        degraded=plan.wire(),
        final=not awaiting,
        sent=sent,
    )
    stored_s = time.perf_counter() - storing
    FRAMES_ANALYSED.inc(len(analysed.pts))
    analyzer_seconds = {f"analyze:{key}": total / 1000 for key, total in analysed.timings.items()}
    _stages_observe(analyzer_seconds)  # every job: in services mode visual runs in a job of its own
    if owns_state:
        try:  # derived data: the segment is done whatever happens here (without the brands
            # awaited, its recheck looks for every brand)
            spans = _Spans(started, dispatched_at, stored_s - sent.get("seconds", 0.0), sent.get("seconds", 0.0))
            _trace_record(segment, spans, analysed, analyzer_seconds)
        except Exception:
            logger.exception("trace of segment %s not recorded", segment.pk)
        _results_stored_emit(segment, analysed.thumbnails, plan.fps)
    if analysed.awaiting_verifiers:
        logos_recheck_dispatch(segment.pk)
    return State.DONE


def segment_logos_recheck(segment_id: int) -> str:
    """Looks for logos again in a segment, waiting for every verifier it needs: a segment
    that a live job analysed while some brands' verifiers were still being built (a brand
    added just before the stream started), or a done one after a correction.

    A segment awaiting its recheck is looked at for the brands its live pass skipped
    (`LOGOS_AWAITED` in its trace) alone: their findings are added, the others' stand as
    stored; the segment is then marked done. Otherwise (a done segment, or no brands
    recorded) its logo results are replaced. Its exposure is derived again either way."""
    segment = (
        MediaSegment.objects.select_related("stream")
        .filter(pk=segment_id, state__in=[State.DONE, State.ANALYZING])
        .first()
    )
    logos = analyzer_get(LOGOS)
    if segment is None:
        return "nothing to recheck"
    awaited = segment.state == State.ANALYZING and AWAITING_VERIFIERS in segment.state_reason
    skipped = (segment.trace or {}).get(LOGOS_AWAITED) if awaited else None
    brand_ids = frozenset(skipped) if isinstance(skipped, list) else None  # None: every brand
    note = "; ".join(part for part in segment.state_reason.split("; ") if part != AWAITING_VERIFIERS)
    sampled = FrameAnalysis.objects.filter(segment=segment).count()  # a degraded segment was sampled slower
    try:
        if logos is None or LOGOS not in segment.stream.enabled_analyzers:
            raise LookupError("logos are no longer analysed for this stream")
        fps = sampled / segment.duration if sampled else None
        analysed = _findings_of(segment, [logos], complete=True, fps=fps, brand_ids=brand_ids)
    except (av.FFmpegError, OSError, IndexError, LookupError) as exc:  # the segment's file expired meanwhile
        logger.info("segment %s not rechecked for logos: %s", segment_id, exc)
        if awaited:  # what it has is all it will have
            MediaSegment.objects.filter(pk=segment.pk).update(
                state=State.DONE, state_reason=f"{note}; logos not checked again: {exc}".strip("; ")
            )
        return "segment unreadable"
    results_store(
        segment=segment,
        pts=analysed.pts,
        findings=analysed.findings,
        # A partial recheck's cost is not the frames' cost: the live pass's stands.
        timings=analysed.per_frame_ms() if brand_ids is None else {},
        analyzers=[LOGOS],
        owns_state=awaited,
        note="; ".join(filter(None, [note, *analysed.errors])),
        brands=brand_ids,
    )
    _results_stored_emit(segment, analysed.thumbnails, sampled / segment.duration if sampled else None)
    return "rechecked"


def _findings_of(
    segment: MediaSegment,
    analyzers: list,
    complete: bool = False,
    fps: float | None = None,
    brand_ids: frozenset[int] | None = None,
) -> _SegmentFindings:
    """Decodes and samples the segment (at `fps`, else the stream's rate) and runs the
    analyzers on it, chunk by chunk. `complete`: wait for every brand's verifier, whatever
    the stream's mode. `brand_ids`: the only brands whose logos are looked for (None: all)."""
    stream = segment.stream
    owned = list(Brand.objects.filter(owner_id=stream.owner_id))
    brands, context = BrandMatcher(owned), _context(stream, owned, complete, brand_ids)
    if any(analyzer.key == LOGOS for analyzer in analyzers):
        context.logos_before[:] = logos_before(segment=segment, seconds=LOGOS_BEFORE_MAX_GAP_S, brand_ids=brand_ids)
    analysed = _SegmentFindings()
    size = CHUNK_FRAMES if complete or _batch(stream) else REALTIME_CHUNK_FRAMES
    chunks = _decoded_ahead(segment.file.path, fps or _sampling_fps(stream), segment.start_pts, size)
    while True:
        waited = time.perf_counter()
        chunk = next(chunks, None)
        analysed.decode_s += time.perf_counter() - waited
        if chunk is None:
            break
        analysed.pts.extend(frame.pts for frame in chunk)
        analysing = time.perf_counter()
        found = _run_analyzers(analyzers, chunk, context, analysed.timings, analysed.errors)
        analysed.analyze_s += time.perf_counter() - analysing
        found = [brands.link(frame_findings) for frame_findings in found]
        _keep_thumbnails(chunk, found, analysed.thumbnails)
        analysed.findings.extend(found)
    analysed.awaiting_verifiers = context.awaiting_verifiers
    return analysed


@dataclass(frozen=True)
class _Spans:
    """A job's own timestamps and durations, for its trace."""

    started: datetime
    dispatched_at: float | None  # Unix time; None when run without the dispatcher
    store_s: float  # the transaction
    send_s: float  # its messages on the channel layer, once committed


def _trace_record(
    segment: MediaSegment, spans: _Spans, analysed: _SegmentFindings, analyzer_seconds: dict[str, float]
) -> None:
    """Where the segment's time went, from its last frame to its results on the socket
    (`MediaSegment.trace`; `pipeline.stats` gives p50 and p95 per stage): closed and
    registered, dispatched, waiting in the queue, decoded, analysed, stored, sent."""
    end = segment.program_date_time + timedelta(seconds=segment.duration)
    registered = segment.created_at
    dispatched = registered if spans.dispatched_at is None else datetime.fromtimestamp(spans.dispatched_at, UTC)
    trace = {
        "close": (registered - end).total_seconds(),
        **({"dispatch": (dispatched - registered).total_seconds()} if spans.dispatched_at is not None else {}),
        "queue": (spans.started - dispatched).total_seconds(),
        "decode": analysed.decode_s,
        "analyze": analysed.analyze_s,  # the analyzers at once; each one's own time below
        **analyzer_seconds,  # observed already, by every job
        "store": spans.store_s,
        "send": spans.send_s,
        "total": (timezone.now() - end).total_seconds(),
    }
    _stages_observe({stage: s for stage, s in trace.items() if stage not in analyzer_seconds})
    rounded: dict = {stage: round(s, 4) for stage, s in trace.items()}
    if analysed.awaiting_verifiers:  # not a stage: what the logo recheck looks for
        rounded[LOGOS_AWAITED] = sorted(analysed.awaiting_verifiers)
    MediaSegment.objects.filter(pk=segment.pk).update(trace=rounded)


def _stages_observe(seconds_by_stage: dict[str, float]) -> None:
    for stage, seconds in seconds_by_stage.items():
        STAGE_SECONDS.labels(stage).observe(max(seconds, 0.0))


def _results_stored_emit(segment: MediaSegment, thumbnails: dict[int, bytes], fps: float | None = None) -> None:
    """Hands the stored results to exposure (its subscriber records appearances, alerts and
    the live totals). Derived data: the results stand even if this fails; the next segment
    re-derives the window."""
    try:
        with STAGE_SECONDS.labels("exposure").time():  # the stage of its subscriber, exposure
            interval_s = 1 / (fps or _sampling_fps(segment.stream))
            results_stored.emit(ResultsStored(segment=segment, interval_s=interval_s, thumbnails=thumbnails))
    except Exception:
        logger.exception("brand exposure of segment %s not recorded", segment.pk)


def _decoded_ahead(path: str, fps: float, start_pts: float, size: int = CHUNK_FRAMES) -> Iterator[list[Frame]]:
    """Chunks of sampled frames; the next chunk decodes on another thread while the
    analyzers run on this one (PyAV and onnxruntime both release the GIL)."""
    sampled = (Frame(start_pts + offset, image) for offset, image in frames_sampled(path, fps))
    chunks = iter(lambda: list(itertools.islice(sampled, size)), [])
    with ThreadPoolExecutor(1, thread_name_prefix="decode") as decoder:
        upcoming = decoder.submit(next, chunks, None)
        while (chunk := upcoming.result()) is not None:
            upcoming = decoder.submit(next, chunks, None)
            yield chunk


def _keep_thumbnails(chunk: list[Frame], found, thumbnails: dict[int, bytes]) -> None:
    for frame, frame_findings in zip(chunk, found):
        for _, finding in frame_findings:
            brand_id = finding.extra.get("brand_id")
            if brand_id is not None and brand_id not in thumbnails:
                thumbnails[brand_id] = thumbnail_jpeg(frame.image, finding.box)


def _context(
    stream: Stream, brands: list[Brand], complete: bool = False, brand_ids: frozenset[int] | None = None
) -> Context:
    """The stream owner's brands and logo references (their files are read only by
    analyzers whose cache lacks them), and the configured scene classes. `brand_ids`: the
    brands whose logos are looked for (references, verifiers, corrections); None: all."""
    references = BrandReferenceImage.objects.filter(brand__owner_id=stream.owner_id).select_related("brand")
    owned = Brand.objects.filter(owner_id=stream.owner_id, verifier_state=Brand.VerifierState.READY)
    if brand_ids is not None:
        references, owned = references.filter(brand_id__in=brand_ids), owned.filter(pk__in=brand_ids)
    logos = tuple(
        LogoReference(ref.brand_id, ref.brand.name, _reference_key(ref), ref.image_read) for ref in references
    )
    verifiers = tuple(
        StoredVerifier(brand_id, key, _verifier_reader(brand_id))
        for brand_id, key in owned.values_list("pk", "verifier_key")
    )
    complete = complete or stream.processing_mode == Stream.Mode.BATCH
    return Context(
        logos=logos,
        verifiers=verifiers,
        complete=complete,
        scene_labels=tuple(settings.CONFIG.scene_labels),
        brands=tuple(BrandName(brand.pk, brand.name) for brand in brands),
        logo_corrections=_logo_corrections(stream, brand_ids),
    )


def _logo_corrections(stream: Stream, brand_ids: frozenset[int] | None = None) -> tuple[CorrectedLogo, ...]:
    """The owner's corrections; their crops are read only by analyzers whose cache lacks them."""
    fixes = LogoCorrection.objects.filter(brand__owner_id=stream.owner_id)
    if brand_ids is not None:
        fixes = fixes.filter(brand_id__in=brand_ids)
    return tuple(CorrectedLogo(fix.brand_id, fix.kind, fix.cache_key(), fix.image_read, fix.box) for fix in fixes)


def _verifier_reader(brand_id: int):
    return lambda: bytes(Brand.objects.values_list("verifier", flat=True).get(pk=brand_id) or b"")


def _reference_key(reference: BrandReferenceImage) -> str:
    return reference.cache_key()


def _run_analyzers(analyzers, chunk: list[Frame], context: Context, timings: dict[str, float], errors: list[str]):
    """Findings per frame of the chunk, in the analyzers' order; adds each analyzer's
    milliseconds to `timings`.

    The analyzers run at once: onnxruntime, OpenCV and numpy release the GIL, so the
    segment's results wait for the slowest analyzer, not for the sum of them (bench/latency).
    One that reads the context (the database) runs on this thread; the others beside it."""
    beside = [analyzer for analyzer in analyzers if not analyzer.reads_context]
    with ThreadPoolExecutor(max(len(beside), 1), thread_name_prefix="analyzer") as pool:
        pending = {analyzer.key: pool.submit(_analyzed, analyzer, chunk, context) for analyzer in beside}
        done = {a.key: _analyzed(a, chunk, context) for a in analyzers if a.reads_context}
        done.update((key, future.result()) for key, future in pending.items())
    findings: list[list[tuple[str, Finding]]] = [[] for _ in chunk]
    for analyzer in analyzers:
        per_frame, elapsed_ms, error = done[analyzer.key]
        if error is not None:
            errors.append(f"{analyzer.key} failed: {error}")
            continue
        timings[analyzer.key] = timings.get(analyzer.key, 0.0) + elapsed_ms
        for index, frame_findings in enumerate(per_frame):
            findings[index].extend((analyzer.key, finding) for finding in frame_findings)
    return findings


def _analyzed(analyzer, chunk: list[Frame], context: Context) -> tuple[list[list[Finding]], float, str | None]:
    """(findings per frame, milliseconds, error or None): one failing analyzer never stops the others."""
    started = time.perf_counter()
    try:
        return analyzer.analyze(chunk, context), (time.perf_counter() - started) * 1000, None
    except Exception as exc:  # an exception's text may be empty: the error is never ""
        logger.exception("analyzer %s failed", analyzer.key)
        return [], 0.0, str(exc) or type(exc).__name__


def _claim(segment_id: int, backfill: bool = False) -> MediaSegment | None:
    """pending -> analyzing, with a lease the job renews as it goes (the sweep dispatches the
    segment again once it runs out). An `analyzing` segment is claimed again: its last worker
    died (the broker redelivered the task), or a duplicate dispatch finds it; jobs are idempotent.
    A backfill claims a segment skipped as stale instead of a pending one."""
    claimable = Q(state=State.ANALYZING) | (
        Q(state=State.SKIPPED, state_reason__startswith=STALE) if backfill else Q(state=State.PENDING)
    )
    with transaction.atomic():
        claimed = MediaSegment.objects.filter(claimable, pk=segment_id).update(
            state=State.ANALYZING, lease_until=_lease_end(), updated_at=timezone.now()
        )
    return MediaSegment.objects.select_related("stream").get(pk=segment_id) if claimed else None


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.CONFIG.segment_lease_s)


def _lease_renew(segment_id: int) -> None:
    MediaSegment.objects.filter(pk=segment_id, state=State.ANALYZING).update(lease_until=_lease_end())


@contextmanager
def _leased(segment_id: int):
    """Renews the job's lease every third of it while the body runs, however long one chunk
    or a model's first load takes: only a dead or frozen job lets it run out. Stopped
    before the results are stored, which clear the lease."""
    stop = threading.Event()

    def heartbeat() -> None:
        try:
            while not stop.wait(settings.CONFIG.segment_lease_s / 3):
                try:
                    _lease_renew(segment_id)
                except Exception:  # an outage: the job will meet it too; the lease may run out
                    logger.warning("segment %s: lease not renewed", segment_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    beating = threading.Thread(target=heartbeat, name=f"lease-{segment_id}", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


def _release(segment_id: int) -> None:
    """After an outage: back to pending, for the task's retry or else the sweep, without
    counting as a lost job. Best effort: the database may be the thing that is down."""
    due = timezone.now() + timedelta(seconds=settings.CONFIG.segment_pending_bound_s)
    try:
        MediaSegment.objects.filter(pk=segment_id, state=State.ANALYZING).update(state=State.PENDING, lease_until=due)
    except OUTAGES:
        logger.warning("segment %s left analyzing: its lease will run out and the sweep dispatch it again", segment_id)


def _unfinished(segment_id: int) -> MediaSegment | None:
    """For a job that adds to a segment: nothing to add once the segment was skipped or failed."""
    return (
        MediaSegment.objects.select_related("stream")
        .filter(pk=segment_id)
        .exclude(state__in=[State.SKIPPED, State.FAILED])
        .first()
    )


STALE = "stale: "
BACKFILL_QUEUED = "queued to be analysed for the record"


def _reason_to_skip(segment: MediaSegment, stream: Stream, lag_bound: bool = True) -> str:
    if not stream.analysis_enabled:
        return "analysis is stopped for this stream"
    if lag_bound and not _batch(stream):
        lag = _lag(segment)
        if lag > settings.CONFIG.realtime_lag_bound_s:
            return f"{STALE}{lag:.1f} s behind live (realtime mode keeps the newest segments)"
    return ""


def _skipped(segment: MediaSegment, reason: str, owns_state: bool) -> str:
    """A stale segment of a stream that keeps the record goes to the backfill after it is
    marked skipped (the backfill job claims it from there)."""
    backfill = owns_state and reason.startswith(STALE) and segment.stream.backfill_skipped
    state = _finish(segment, State.SKIPPED, f"{reason}; {BACKFILL_QUEUED}" if backfill else reason, owns_state)
    if backfill:
        segment_backfill_dispatch(segment.pk)
    return state


def _lag(segment: MediaSegment) -> float:
    """Seconds from the segment's last frame to now: how far behind live its analysis starts."""
    return (timezone.now() - segment.program_date_time).total_seconds() - segment.duration


# Realtime analysis falling behind gives way in steps before a segment is skipped (at the lag
# bound): past the first share of the bound, half the sampling rate; past the second, a
# quarter, without the optional analyzers. Each segment records its own step.
DEGRADE_AT = (0.3, 0.6)
MIN_DEGRADED_FPS = 0.5


@dataclass(frozen=True)
class _Plan:
    fps: float
    left_out: tuple[str, ...] = ()
    note: str = ""

    def wire(self) -> dict | None:
        """For `analysis.segment`: the step taken, when one was."""
        return {"fps": self.fps, "left_out": list(self.left_out)} if self.note else None


def _plan(segment: MediaSegment, stream: Stream, analyzers: list) -> _Plan:
    fps = _sampling_fps(stream)
    if _batch(stream):
        return _Plan(fps)
    lag, bound = _lag(segment), settings.CONFIG.realtime_lag_bound_s
    if lag <= DEGRADE_AT[0] * bound:
        return _Plan(fps)
    if lag <= DEGRADE_AT[1] * bound:
        reduced = min(fps, max(MIN_DEGRADED_FPS, fps / 2))
        return _Plan(reduced, (), f"degraded: {reduced:g} fps, {lag:.1f} s behind live")
    reduced = min(fps, max(MIN_DEGRADED_FPS, fps / 4))
    left_out = tuple(analyzer.key for analyzer in analyzers if analyzer.optional)
    without = f", without {', '.join(left_out)}" if left_out else ""
    return _Plan(reduced, left_out, f"degraded: {reduced:g} fps{without}, {lag:.1f} s behind live")


def _batch(stream: Stream) -> bool:
    return stream.processing_mode == Stream.Mode.BATCH


def _sampling_fps(stream: Stream) -> float:
    return min(stream.sampling_fps * 2, 10.0) if _batch(stream) else stream.sampling_fps


def _finish(segment: MediaSegment, state: str, reason: str, owns_state: bool = True) -> str:
    """Records a segment that ends without results. A job that does not own the state only
    logs: the segment's own job decides, and says why, for the same input."""
    if not owns_state:
        logger.info("segment %s part not analysed: %s", segment.pk, reason)
        return state
    if state == State.FAILED:
        logger.warning("segment %s failed: %s", segment.pk, reason)
    MediaSegment.objects.filter(pk=segment.pk).update(
        state=state, state_reason=reason, lease_until=None, updated_at=timezone.now()
    )
    segment_end_announce(segment, state, reason)  # skipped and failed are visible live
    return state
