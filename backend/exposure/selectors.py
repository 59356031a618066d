"""Exposure metrics per brand, for a stream and any time range, from its appearances."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Min, QuerySet

from ai_processing.models import FrameAnalysis
from exposure.models import GRID, AlertFiring, AlertRule, BrandAppearance
from streaming.models import Stream

_SUMMED = ("frames", "area_sum", "prominence", "confidence_sum")


def appearance_list(
    *, stream: Stream, since: datetime | None = None, until: datetime | None = None, brand_id: int | None = None
) -> QuerySet[BrandAppearance]:
    appearances = BrandAppearance.objects.filter(stream=stream).select_related("brand")
    if since is not None:
        appearances = appearances.filter(end_pdt__gte=since)
    if until is not None:
        appearances = appearances.filter(start_pdt__lt=until)
    if brand_id is not None:
        appearances = appearances.filter(brand_id=brand_id)
    return appearances.order_by("start_pdt", "track_id")


def exposure_summary(*, stream: Stream, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Per brand: screen time, appearances, share of screen (mean while visible, and
    time-weighted over the range), position heatmap, prominence, first and last seen,
    confidence, and screen time per source. An appearance partly inside the range counts
    in proportion."""
    appearances = list(appearance_list(stream=stream, since=since, until=until))
    low, high = _range(stream, since, until)
    span = max((high - low).total_seconds(), 1e-9) if low and high else 0.0
    brands: dict[int, dict] = {}
    for appearance in appearances:
        share = _inside(appearance, since, until)
        totals = brands.setdefault(appearance.brand_id, _empty(appearance))
        totals["appearances"] += 1
        totals["screen_time_s"] += appearance.duration_s * share
        for name in _SUMMED:
            totals[name] += getattr(appearance, name) * share
        totals["heat"] = [a + b * share for a, b in zip(totals["heat"], appearance.heatmap)]
        totals["area_max"] = max(totals["area_max"], appearance.area_max)
        totals["confidence_max"] = max(totals["confidence_max"], appearance.confidence_max)
        totals["first_seen"] = min(totals["first_seen"], max(appearance.start_pdt, since or appearance.start_pdt))
        totals["last_seen"] = max(totals["last_seen"], min(appearance.end_pdt, until or appearance.end_pdt))
        for source, frames in appearance.sources.items():
            totals["by_source"][source] = totals["by_source"].get(source, 0.0) + frames * appearance.interval_s * share
        totals["area_time"] += appearance.area_sum * appearance.interval_s * share
    return {
        "since": low,
        "until": high,
        "range_s": round(span, 3),
        "brands": sorted((_finished(t, span) for t in brands.values()), key=lambda b: -b["screen_time_s"]),
    }


def alerts_recent(*, stream: Stream, limit: int = 10) -> list[AlertFiring]:
    return list(AlertFiring.objects.filter(stream=stream).order_by("-fired_at", "-id")[:limit])


def alert_rules_of(user) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(owner=user).select_related("brand", "stream")


def _range(stream, since, until):
    if since is not None and until is not None:
        return since, until
    bounds = FrameAnalysis.objects.filter(stream=stream).aggregate(first=Min("pdt"), last=Max("pdt"))
    return since or bounds["first"], until or bounds["last"]


def _inside(appearance: BrandAppearance, since, until) -> float:
    """The share of the appearance's screen time inside [since, until)."""
    start, end = appearance.start_pdt, appearance.start_pdt + timedelta(seconds=appearance.duration_s)
    low, high = max(start, since or start), min(end, until or end)
    return max(0.0, (high - low) / (end - start)) if end > start else 1.0


def _empty(appearance: BrandAppearance) -> dict:
    return {
        "brand_id": appearance.brand_id,
        "brand": appearance.brand.name,
        "appearances": 0,
        "screen_time_s": 0.0,
        **dict.fromkeys(_SUMMED, 0.0),
        "area_time": 0.0,
        "area_max": 0.0,
        "confidence_max": 0.0,
        "heat": [0.0] * GRID * GRID,
        "by_source": {},
        "first_seen": appearance.start_pdt,
        "last_seen": appearance.end_pdt,
    }


def _finished(totals: dict, span: float) -> dict:
    frames = totals.pop("frames")
    heat = totals.pop("heat")
    seen = sum(heat) or 1.0
    return {
        "brand_id": totals["brand_id"],
        "brand": totals["brand"],
        "appearances": totals["appearances"],
        "screen_time_s": round(totals["screen_time_s"], 3),
        "share_of_screen_mean": round(totals["area_sum"] / frames, 5) if frames else 0.0,
        "share_of_screen_time_weighted": round(totals["area_time"] / span, 5) if span else 0.0,
        "share_of_screen_max": round(totals["area_max"], 5),
        "heatmap": {"grid": GRID, "cells": [round(cell / seen, 4) for cell in heat]},
        "prominence": round(totals["prominence"], 5),
        "first_seen": totals["first_seen"].isoformat(),
        "last_seen": totals["last_seen"].isoformat(),
        "confidence_mean": round(totals["confidence_sum"] / frames, 4) if frames else 0.0,
        "confidence_max": round(totals["confidence_max"], 4),
        "screen_time_by_source_s": {source: round(value, 3) for source, value in totals["by_source"].items()},
    }
