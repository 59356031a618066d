"""Alert rules evaluated against the appearances an analysed segment touched."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from exposure.models import AlertFiring, AlertRule, BrandAppearance, WebhookDelivery
from streaming.models import Stream


def alerts_evaluate(*, stream: Stream, appearances: list[BrandAppearance]) -> list[AlertFiring]:
    """Fires each rule at most once per appearance; returns the new firings. Their
    webhooks and socket messages go out after commit (the caller's transaction)."""
    brands = {appearance.brand_id for appearance in appearances}
    if not brands:
        return []
    rules = AlertRule.objects.filter(
        Q(stream=stream) | Q(stream__isnull=True), owner_id=stream.owner_id, brand_id__in=brands, enabled=True
    ).select_related("brand")
    fired = []
    for rule in rules:
        for appearance in appearances:
            if appearance.brand_id == rule.brand_id and _met(rule, appearance):
                firing = _fire(rule, appearance)
                if firing is not None:
                    fired.append(firing)
    return fired


def _met(rule: AlertRule, appearance: BrandAppearance) -> bool:
    if rule.condition == AlertRule.Condition.ON_SCREEN_FOR:
        return appearance.duration_s > rule.seconds
    return True


def _fire(rule: AlertRule, appearance: BrandAppearance) -> AlertFiring | None:
    if AlertFiring.objects.filter(rule=rule, appearance=appearance).exists():
        return None
    payload = {
        "rule_id": rule.pk,
        "rule": rule.name,
        "condition": rule.condition,
        "seconds": rule.seconds,
        "stream_id": str(appearance.stream_id),
        "brand_id": rule.brand_id,
        "brand": rule.brand.name,
        "appearance_id": appearance.pk,
        "track_id": appearance.track_id,
        "start_pdt": appearance.start_pdt.isoformat(),
        "on_screen_s": round(appearance.duration_s, 3),
    }
    try:
        with transaction.atomic():  # a savepoint: a concurrent duplicate loses quietly
            firing = AlertFiring.objects.create(
                rule=rule, appearance=appearance, stream_id=appearance.stream_id, payload=payload
            )
    except IntegrityError:
        return None
    if rule.webhook_url:
        WebhookDelivery.objects.create(firing=firing, url=rule.webhook_url)
    return firing
