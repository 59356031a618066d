from django.conf import settings
from django.db import models

from streaming.models import MediaSegment, Stream


class Brand(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(max_length=120)
    aliases = models.JSONField(default=list, blank=True, help_text="Other spellings matched in on-screen text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class VerifierState(models.TextChoices):
        NONE = "none"  # no usable reference image
        BUILDING = "building"
        READY = "ready"
        FAILED = "failed"

    # The logo verifier built from the reference images (see ai_processing.analyzers.logo_verifier).
    verifier = models.BinaryField(null=True, editable=False)
    verifier_key = models.TextField(blank=True, default="", help_text="The reference images it was built from.")
    verifier_state = models.CharField(max_length=16, choices=VerifierState.choices, default=VerifierState.NONE)
    verifier_seconds = models.FloatField(null=True, help_text="Seconds it took to build.")
    verifier_precision = models.FloatField(null=True, help_text="On held-back synthetic views.")
    verifier_recall = models.FloatField(null=True, help_text="On held-back synthetic views.")
    verifier_warnings = models.JSONField(
        default=list, blank=True, help_text="Reference images it could not use, and why."
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="brand_unique_owner_name")]

    def __str__(self) -> str:
        return self.name


class BrandReferenceImage(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="reference_images")
    image = models.ImageField(upload_to="brands/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def image_read(self) -> bytes:
        with self.image.open("rb") as file:
            return file.read()

    def cache_key(self) -> str:
        """Names what a cached template was built from. Ids and file names can come back after
        a deletion (SQLite reuses row ids), so the upload time and the brand are part of it."""
        parts = (self.pk, self.created_at.isoformat(), self.image.name, self.brand_id, self.brand.name)
        return ":".join(map(str, parts))


class LogoCorrection(models.Model):
    """A user's correction of the logos found, from the exposure report: "not this brand"
    on an appearance (a negative) or "missed here" at a moment (a positive). It is used at
    once by the logos analyzer, and in the brand's next verifier build."""

    class Kind(models.TextChoices):
        NEGATIVE = "negative"
        POSITIVE = "positive"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The frame around the logo at the analyzer's working scale (540 lines), with a margin.
    image = models.ImageField(upload_to="corrections/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # The logo inside the crop, px.
    box_x = models.PositiveIntegerField()
    box_y = models.PositiveIntegerField()
    box_w = models.PositiveIntegerField()
    box_h = models.PositiveIntegerField()
    stream = models.ForeignKey(
        Stream, null=True, blank=True, on_delete=models.SET_NULL, related_name="logo_corrections"
    )
    pts = models.FloatField(
        null=True, blank=True, help_text="Seconds from the stream's start of the frame it came from."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def image_read(self) -> bytes:
        with self.image.open("rb") as file:
            return file.read()

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.box_x, self.box_y, self.box_w, self.box_h

    def cache_key(self) -> str:
        """Names it in verifier keys and feature caches; the creation time because SQLite
        reuses row ids after a deletion (as for reference images)."""
        return f"correction:{self.pk}:{self.kind}:{self.created_at.isoformat()}:{self.brand_id}"


class FrameAnalysis(models.Model):
    """The results of every analyzer for one sampled frame."""

    segment = models.ForeignKey(MediaSegment, on_delete=models.CASCADE, related_name="frames")
    # Denormalised so time-range queries scan one index without a join.
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="frames")
    pts = models.FloatField(help_text="Seconds from the stream's start, from the decoded frame.")
    pdt = models.DateTimeField(help_text="Wall clock of the frame: segment PDT + offset.")
    timings = models.JSONField(default=dict, help_text="Milliseconds per analyzer.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pdt"]
        constraints = [models.UniqueConstraint(fields=["segment", "pts"], name="frame_unique_segment_pts")]
        indexes = [models.Index(fields=["stream", "pdt"], name="frame_stream_pdt")]


class Detection(models.Model):
    frame = models.ForeignKey(FrameAnalysis, on_delete=models.CASCADE, related_name="detections")
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="detections")
    pdt = models.DateTimeField()
    pts = models.FloatField()
    analyzer = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, help_text="object, face, logo, text, scene, ...")
    label = models.CharField(max_length=200)
    confidence = models.FloatField()
    # The box, normalised to 0..1 of the frame, origin top left.
    x = models.FloatField()
    y = models.FloatField()
    w = models.FloatField()
    h = models.FloatField()
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.SET_NULL, related_name="detections")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pdt", "id"]
        indexes = [
            models.Index(fields=["stream", "pdt"], name="detection_stream_pdt"),
            models.Index(fields=["stream", "kind", "pdt"], name="detection_stream_kind_pdt"),
            models.Index(fields=["brand", "pdt"], name="detection_brand_pdt"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1), name="detection_confidence_range"
            ),
            models.CheckConstraint(
                condition=models.Q(x__gte=0, y__gte=0, w__gte=0, h__gte=0)
                & models.Q(x__lte=1, y__lte=1, w__lte=1, h__lte=1),
                name="detection_box_normalised",
            ),
        ]
