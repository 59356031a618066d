"""Brand appearances (sightings linked across frames), alert rules, and what they fired."""

import secrets

from django.conf import settings
from django.db import models

from ai_processing.models import Brand
from streaming.models import Stream

GRID = 3  # the position heatmap is GRID x GRID cells over the frame


class BrandAppearance(models.Model):
    """One continuous stretch of a brand on screen: sightings at most a gap apart (so a
    single missed frame never splits it). Totals are sums, so metrics add up exactly."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="appearances")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="appearances")
    track_id = models.PositiveIntegerField(help_text="Per stream, stable while the appearance grows.")
    start_pdt = models.DateTimeField()
    end_pdt = models.DateTimeField(help_text="The last sighting.")
    start_pts = models.FloatField()
    interval_s = models.FloatField(help_text="Seconds each sampled frame stands for.")
    frames = models.PositiveIntegerField()
    area_sum = models.FloatField(help_text="Sum over frames of the box area, as a share of the frame.")
    area_max = models.FloatField()
    prominence = models.FloatField(help_text="Sum over frames of area x centrality x interval.")
    confidence_sum = models.FloatField()
    confidence_max = models.FloatField()
    heatmap = models.JSONField(default=list, help_text="Frames per grid cell of the box centre, row by row.")
    sources = models.JSONField(default=dict, help_text="Frames per source: logo, ocr, zero-shot, cloud.")
    thumbnail = models.ImageField(upload_to="evidence/", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_pdt"]
        constraints = [models.UniqueConstraint(fields=["stream", "track_id"], name="appearance_unique_track")]
        indexes = [models.Index(fields=["stream", "brand", "end_pdt"], name="appearance_stream_brand_end")]

    @property
    def duration_s(self) -> float:
        return (self.end_pdt - self.start_pdt).total_seconds() + self.interval_s


class AlertRule(models.Model):
    class Condition(models.TextChoices):
        APPEARS = "appears", "the brand appears"
        ON_SCREEN_FOR = "on_screen_for", "the brand stays on screen for more than N seconds"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=120)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alert_rules")
    stream = models.ForeignKey(
        Stream,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text="Empty: every stream of the owner.",
    )
    condition = models.CharField(max_length=20, choices=Condition.choices)
    seconds = models.FloatField(default=0, help_text="For on_screen_for.")
    webhook_url = models.URLField(blank=True, max_length=500)
    # Signs each delivery (HMAC-SHA256); shown to the owner once, on creation.
    secret = models.CharField(max_length=64, default=secrets.token_urlsafe, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class AlertFiring(models.Model):
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    appearance = models.ForeignKey(BrandAppearance, null=True, on_delete=models.SET_NULL, related_name="firings")
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="alert_firings")
    payload = models.JSONField()
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fired_at"]
        # Each appearance fires a rule once, however often it is re-evaluated.
        constraints = [models.UniqueConstraint(fields=["rule", "appearance"], name="firing_once_per_appearance")]


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    firing = models.OneToOneField(AlertFiring, on_delete=models.CASCADE, related_name="delivery")
    url = models.URLField(max_length=500)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
