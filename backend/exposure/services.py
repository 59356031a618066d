"""Writes: recording exposure after a segment's results are stored, and alert rules."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import av
from django.db import transaction

from ai_processing.analyzers.logo_corrections import NEGATIVE, crop_at
from ai_processing.frames import frame_at
from ai_processing.hooks import ResultsStored
from ai_processing.models import Detection
from ai_processing.services import brand_verifier_request, logo_correction_add
from exposure.alerts import alerts_evaluate
from exposure.messages import alert_message, exposure_message
from exposure.models import AlertRule, BrandAppearance, WebhookDelivery
from exposure.selectors import exposure_summary
from exposure.tracking import appearances_update
from exposure.webhooks import delivery_dispatch
from media_analyzer.events import broadcast
from media_analyzer.quotas import quota_check
from streaming.models import MediaSegment, Stream

logger = logging.getLogger(__name__)
REJECT_CROPS = 3  # negatives cut per rejected appearance: its first, middle and last logo sighting


def results_stored_record(event: ResultsStored) -> None:
    """Subscribed to ai_processing's `results_stored` (ExposureConfig.ready)."""
    exposure_record(segment=event.segment, interval_s=event.interval_s, thumbnails=event.thumbnails)


def exposure_record(*, segment: MediaSegment, interval_s: float, thumbnails: dict[int, bytes]) -> None:
    """Appearances, alerts and the live totals for a segment whose results are stored."""
    stream = segment.stream
    since = segment.program_date_time
    with transaction.atomic():
        appearances = appearances_update(
            stream=stream,
            since=since,
            until=since + timedelta(seconds=segment.duration),
            interval_s=interval_s,
            thumbnails=thumbnails,
        )
        if not appearances and not thumbnails:
            return
        firings = alerts_evaluate(stream=stream, appearances=appearances)
        message = exposure_message(stream, exposure_summary(stream=stream))
        transaction.on_commit(lambda: _publish(stream.pk, message, firings))


def exposure_rederive(*, stream: Stream, since: datetime, until: datetime, interval_s: float) -> None:
    """After sightings were removed by hand: the appearances around the window derived
    again, and the live totals sent even when no appearance is left."""
    with transaction.atomic():
        appearances_update(stream=stream, since=since, until=until, interval_s=interval_s)
        message = exposure_message(stream, exposure_summary(stream=stream))
        transaction.on_commit(lambda: broadcast(stream.pk, message))


def appearance_reject(*, appearance: BrandAppearance) -> int:
    """ "Not this brand": up to REJECT_CROPS of the appearance's logo sightings are stored as
    negatives of the brand (cut from the segment frames the analyzer saw), its logo
    sightings are deleted and its other sightings (text read on screen) unlinked from the
    brand, and the exposure of its window is derived again. Returns the negatives stored:
    none when the segment files have expired."""
    sightings = Detection.objects.filter(
        stream_id=appearance.stream_id,
        brand_id=appearance.brand_id,
        pdt__gte=appearance.start_pdt,
        pdt__lte=appearance.end_pdt,
    )
    logos = list(sightings.filter(analyzer="logos").select_related("frame__segment").order_by("pdt", "id"))
    crops = [crop for crop in map(_negative_crop, _spread(logos, REJECT_CROPS)) if crop is not None]
    with transaction.atomic():
        for sighting, crop in crops:
            logo_correction_add(
                brand=appearance.brand,
                kind=NEGATIVE,
                crop=crop,
                stream=appearance.stream,
                pts=sighting.pts,
                rebuild=False,
            )
        if crops:
            brand_verifier_request(brand=appearance.brand)
        sightings.filter(kind="logo").delete()
        sightings.update(brand=None)
        exposure_rederive(
            stream=appearance.stream,
            since=appearance.start_pdt,
            until=appearance.end_pdt,
            interval_s=appearance.interval_s,
        )
    return len(crops)


def _spread(items: list, most: int) -> list:
    if len(items) <= most:
        return items
    return [items[round(i * (len(items) - 1) / (most - 1))] for i in range(most)]


def _negative_crop(sighting):
    """The sighting's frame region, or None when its segment's video is gone."""
    segment = sighting.frame.segment
    try:
        _, image = frame_at(segment.file.path, sighting.pts - segment.start_pts)
    except (av.FFmpegError, OSError, ValueError) as exc:
        logger.info("no negative cut for detection %s: %s", sighting.pk, exc)
        return None
    return sighting, crop_at(image, (sighting.x, sighting.y, sighting.w, sighting.h))


def _publish(stream_id, message: dict, firings) -> None:
    broadcast(stream_id, message)
    for firing in firings:
        broadcast(stream_id, alert_message(firing))
    for delivery_id, url in WebhookDelivery.objects.filter(firing__in=firings).values_list("pk", "url"):
        delivery_dispatch(delivery_id, url)


def alert_rule_create(*, owner, **fields) -> AlertRule:
    quota_check(owner=owner, name="alert_rules", count=AlertRule.objects.filter(owner=owner).count, what="alert rule")
    return AlertRule.objects.create(owner=owner, **fields)


def alert_rule_update(*, rule: AlertRule, **fields) -> AlertRule:
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def alert_rule_delete(*, rule: AlertRule) -> None:
    rule.delete()
