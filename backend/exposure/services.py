"""Writes: recording exposure after a segment's results are stored, and alert rules."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from exposure.alerts import alerts_evaluate
from exposure.messages import alert_message, exposure_message
from exposure.models import AlertRule, WebhookDelivery
from exposure.selectors import exposure_summary
from exposure.tracking import appearances_update
from exposure.webhooks import delivery_dispatch
from media_analyzer.events import broadcast
from streaming.models import MediaSegment


def exposure_record(*, segment: MediaSegment, interval_s: float, thumbnails: dict[int, bytes]) -> None:
    """Appearances, alerts and the live totals for a segment whose results are stored."""
    stream = segment.stream
    since = segment.program_date_time
    with transaction.atomic():
        appearances = appearances_update(stream=stream, since=since, until=since + timedelta(seconds=segment.duration),
                                         interval_s=interval_s, thumbnails=thumbnails)  # fmt: skip
        if not appearances and not thumbnails:
            return
        firings = alerts_evaluate(stream=stream, appearances=appearances)
        message = exposure_message(stream, exposure_summary(stream=stream))
        transaction.on_commit(lambda: _publish(stream.pk, message, firings))


def _publish(stream_id, message: dict, firings) -> None:
    broadcast(stream_id, message)
    for firing in firings:
        broadcast(stream_id, alert_message(firing))
    for delivery_id in WebhookDelivery.objects.filter(firing__in=firings).values_list("pk", flat=True):
        delivery_dispatch(delivery_id)


def alert_rule_create(*, owner, **fields) -> AlertRule:
    return AlertRule.objects.create(owner=owner, **fields)


def alert_rule_update(*, rule: AlertRule, **fields) -> AlertRule:
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def alert_rule_delete(*, rule: AlertRule) -> None:
    rule.delete()
