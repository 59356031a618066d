import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models

# Segments live on the media volume that ingest, web and workers share, whatever
# MEDIA_STORAGE says: ffmpeg writes them there and PyAV reads them there.
_segment_storage = FileSystemStorage()  # MEDIA_ROOT, read lazily


def segment_storage() -> FileSystemStorage:
    return _segment_storage


class Stream(models.Model):
    class Status(models.TextChoices):
        OFFLINE = "offline"
        LIVE = "live"
        ENDED = "ended"
        PROCESSING = "processing"  # an upload being remuxed to segments (upload_progress)
        FAILED = "failed"  # an upload that could not be remuxed (status_reason)

    class Mode(models.TextChoices):
        REALTIME = "realtime"
        BATCH = "batch"

    # A UUID, so stream URLs (API, HLS, WebSocket) cannot be enumerated.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="streams")
    name = models.CharField(max_length=120)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_rotated_at = models.DateTimeField()
    ingest_enabled = models.BooleanField(default=True, help_text="A disabled stream refuses publishers.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFLINE)
    processing_mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.REALTIME)
    analysis_enabled = models.BooleanField(default=True)
    enabled_analyzers = models.JSONField(default=list, blank=True)
    sampling_fps = models.FloatField(default=2.0)
    backfill_skipped = models.BooleanField(
        default=False,
        help_text="Realtime mode: segments skipped as stale are analysed later, on the batch queue, for the record.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    live_since = models.DateTimeField(null=True, blank=True)
    upload_progress = models.FloatField(
        null=True,
        blank=True,
        help_text="Uploads: how much of the video is remuxed to segments, 0 to 1; empty otherwise.",
    )
    status_reason = models.TextField(
        blank=True, help_text="Why the stream failed (an upload that could not be remuxed)."
    )
    # Uploads: the remux job that holds the stream (its token; "" when none does) and how many
    # times the sweep queued it again. One job at a time remuxes, writes progress or ends it.
    remux_claim = models.CharField(max_length=32, blank=True, default="", editable=False)
    remux_requeues = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="stream_owner_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sampling_fps__gt=0) & models.Q(sampling_fps__lte=30),
                name="stream_sampling_fps_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class MediaSegment(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        ANALYZING = "analyzing"
        DONE = "done"
        SKIPPED = "skipped"
        FAILED = "failed"

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="segments")
    seq = models.PositiveIntegerField()
    file = models.FileField(upload_to="segments/", max_length=300, storage=segment_storage)
    duration = models.FloatField(help_text="Seconds.")
    start_pts = models.FloatField(help_text="Seconds from the stream's start.")
    program_date_time = models.DateTimeField(help_text="Wall clock of the segment's first frame.")
    bytes = models.PositiveBigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    state_reason = models.TextField(blank=True)
    trace = models.JSONField(
        default=dict,
        blank=True,
        help_text="Seconds in each pipeline stage: close (last frame to registered), dispatch (registered to "
        "dispatched), queue (dispatched to the job's start), decode, analyze (the analyzers, at once), "
        "analyze:<analyzer> (each one's own time), store (the transaction), send (on the socket), and total "
        "(last frame to sent).",
    )
    # The database, not the broker, says what work is left: the sweep (ai_processing.sweep)
    # dispatches again a segment whose lease ran out, so a lost job never leaves it hanging.
    lease_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="analyzing: the job holding the segment renews this while it runs; pending: when the sweep "
        "dispatches it again. Empty while a segment waits for its logo recheck, and once it is final.",
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Jobs that took the segment and stopped without finishing it (their lease ran out)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="segment_unique_stream_seq")]
        indexes = [
            models.Index(fields=["stream", "program_date_time"], name="segment_stream_pdt"),
            models.Index(fields=["state", "created_at"], name="segment_state_created"),
        ]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.seq}"
