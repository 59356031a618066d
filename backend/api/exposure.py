"""Brand exposure endpoints: metrics per time range, appearances with evidence, CSV and
JSON exports, and alert rules with what they fired."""

from __future__ import annotations

import csv
import io

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ai_processing.selectors import brand_visible_to
from api.inputs import validated
from api.streams import stream_for
from exposure import services
from exposure.models import AlertRule, BrandAppearance
from exposure.selectors import alert_rules_of, appearance_list, exposure_summary
from exposure.webhooks import url_problem
from streaming.selectors import stream_visible_to

SUMMARY_COLUMNS = ("brand_id", "brand", "appearances", "screen_time_s", "share_of_screen_mean",
                   "share_of_screen_time_weighted", "share_of_screen_max", "prominence", "first_seen", "last_seen",
                   "confidence_mean", "confidence_max")  # fmt: skip
APPEARANCE_COLUMNS = ("track_id", "brand_id", "brand", "start_pdt", "end_pdt", "start_pts", "duration_s", "frames",
                      "share_of_screen_mean", "share_of_screen_max", "prominence", "confidence_max", "sources",
                      "play_url", "thumbnail_url")  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # text cells a spreadsheet would evaluate


class RangeIn(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Wall clock (pdt), inclusive.")
    until = serializers.DateTimeField(required=False, help_text="Wall clock (pdt), exclusive.")
    brand = serializers.IntegerField(required=False, help_text="Appearances of this brand only.")

    def validate(self, data):
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise serializers.ValidationError({"until": "must be after since"})
        return data


class AppearanceOut(serializers.ModelSerializer):
    brand_name = serializers.CharField(source="brand.name")
    duration_s = serializers.FloatField()
    share_of_screen_mean = serializers.SerializerMethodField()
    play_url = serializers.SerializerMethodField(help_text="The dashboard's player at the appearance's start.")
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = BrandAppearance
        fields = ["id", "track_id", "brand", "brand_name", "start_pdt", "end_pdt", "start_pts", "duration_s", "frames",
                  "share_of_screen_mean", "area_max", "prominence", "confidence_max", "heatmap", "sources",
                  "play_url", "thumbnail_url"]  # fmt: skip

    def get_share_of_screen_mean(self, appearance) -> float:
        return round(appearance.area_sum / appearance.frames, 5) if appearance.frames else 0.0

    def get_play_url(self, appearance) -> str:
        return f"/streams/{appearance.stream_id}?at={appearance.start_pdt.isoformat().replace('+00:00', 'Z')}"

    def get_thumbnail_url(self, appearance) -> str | None:
        if not appearance.thumbnail:
            return None
        return reverse("stream-appearance-thumbnail", args=[appearance.stream_id, appearance.pk])


class AlertRuleIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    brand = serializers.IntegerField()
    stream = serializers.UUIDField(required=False, allow_null=True, help_text="Empty: every stream.")
    condition = serializers.ChoiceField(choices=AlertRule.Condition.choices)
    seconds = serializers.FloatField(required=False, min_value=0, max_value=86400, default=0)
    webhook_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    enabled = serializers.BooleanField(required=False, default=True)

    def validate_webhook_url(self, url: str) -> str:
        if url and not url.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("use an http or https URL")
        problem = url and url_problem(url)  # what delivery would refuse, said now (a port over 65535)
        if problem:
            raise serializers.ValidationError(problem)
        return url

    def validate(self, data):
        request = self.context["request"]
        if "brand" in data:
            data["brand"] = get_object_or_404(brand_visible_to(request.user), pk=data["brand"])
        if data.get("stream"):
            data["stream"] = get_object_or_404(stream_visible_to(request.user), pk=data["stream"])
        if data.get("condition") == AlertRule.Condition.ON_SCREEN_FOR and not data.get("seconds"):
            raise serializers.ValidationError({"seconds": "on_screen_for needs seconds > 0"})
        return data


class AlertRuleOut(serializers.ModelSerializer):
    brand_name = serializers.CharField(source="brand.name")
    fired = serializers.IntegerField(source="firings.count")

    class Meta:
        model = AlertRule
        fields = ["id", "name", "brand", "brand_name", "stream", "condition", "seconds", "webhook_url", "enabled",
                  "fired", "created_at"]  # fmt: skip


class AlertRuleCreatedOut(AlertRuleOut):
    class Meta(AlertRuleOut.Meta):
        fields = [*AlertRuleOut.Meta.fields, "secret"]


class ExposureView(APIView):
    @extend_schema(parameters=[RangeIn], responses=OpenApiTypes.OBJECT)
    def get(self, request, stream_id):
        """Metrics per brand over the range (the whole stream by default)."""
        stream = stream_for(request, stream_id)
        time_range = validated(RangeIn, request.query_params)
        summary = exposure_summary(stream=stream, since=time_range.get("since"), until=time_range.get("until"))
        return Response({**summary, "stream_id": str(stream.pk)})


class ExposureCsvView(APIView):
    @extend_schema(parameters=[RangeIn], responses={(200, "text/csv"): bytes})
    def get(self, request, stream_id):
        stream = stream_for(request, stream_id)
        time_range = validated(RangeIn, request.query_params)
        summary = exposure_summary(stream=stream, since=time_range.get("since"), until=time_range.get("until"))
        return _csv(f"exposure-{stream.pk}.csv", SUMMARY_COLUMNS, summary["brands"])


class AppearanceListView(APIView):
    @extend_schema(parameters=[RangeIn], responses=AppearanceOut(many=True))
    def get(self, request, stream_id):
        return Response(AppearanceOut(_appearances(request, stream_id), many=True).data)


class AppearanceCsvView(APIView):
    @extend_schema(parameters=[RangeIn], responses={(200, "text/csv"): bytes})
    def get(self, request, stream_id):
        rows = AppearanceOut(_appearances(request, stream_id), many=True).data
        rows = [
            {**row, "brand_id": row["brand"], "brand": row["brand_name"], "share_of_screen_max": row["area_max"]}
            for row in rows
        ]
        return _csv(f"appearances-{stream_id}.csv", APPEARANCE_COLUMNS, rows)


class AppearanceThumbnailView(APIView):
    @extend_schema(responses={(200, "image/jpeg"): bytes})
    def get(self, request, stream_id, appearance_id):
        stream = stream_for(request, stream_id)
        appearance = get_object_or_404(BrandAppearance, stream=stream, pk=appearance_id)
        if not appearance.thumbnail:
            raise Http404("no evidence thumbnail")
        return FileResponse(appearance.thumbnail.open("rb"), content_type="image/jpeg")


class AlertRuleListCreateView(APIView):
    @extend_schema(responses=AlertRuleOut(many=True))
    def get(self, request):
        return Response(AlertRuleOut(alert_rules_of(request.user), many=True).data)

    @extend_schema(request=AlertRuleIn, responses={201: AlertRuleCreatedOut})
    def post(self, request):
        data = validated(AlertRuleIn, request.data, context={"request": request})
        rule = services.alert_rule_create(owner=request.user, **data)
        return Response(AlertRuleCreatedOut(rule).data, status=201)


class AlertRuleDetailView(APIView):
    @extend_schema(responses=AlertRuleOut)
    def get(self, request, rule_id):
        return Response(AlertRuleOut(_rule_for(request, rule_id)).data)

    @extend_schema(request=AlertRuleIn(partial=True), responses=AlertRuleOut)
    def patch(self, request, rule_id):
        rule = _rule_for(request, rule_id)
        data = validated(AlertRuleIn, request.data, partial=True, context={"request": request})
        return Response(AlertRuleOut(services.alert_rule_update(rule=rule, **data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, rule_id):
        services.alert_rule_delete(rule=_rule_for(request, rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertFiringListView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, rule_id):
        """The rule's firings, newest first, with each webhook delivery's outcome."""
        rule = _rule_for(request, rule_id)
        firings = rule.firings.select_related("delivery")[:200]
        return Response(
            [{"id": f.pk, "fired_at": f.fired_at, "payload": f.payload, "delivery": _delivery(f)} for f in firings]
        )


def _appearances(request, stream_id):
    stream = stream_for(request, stream_id)
    time_range = validated(RangeIn, request.query_params)
    return appearance_list(
        stream=stream, since=time_range.get("since"), until=time_range.get("until"), brand_id=time_range.get("brand")
    )


def _rule_for(request, rule_id) -> AlertRule:
    return get_object_or_404(alert_rules_of(request.user), pk=rule_id)


def _delivery(firing) -> dict | None:
    delivery = getattr(firing, "delivery", None)
    if delivery is None:
        return None
    return {
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
    }


def _csv(filename: str, columns, rows) -> HttpResponse:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({column: _cell(value) for column, value in row.items()} for row in rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value):
    """A spreadsheet runs a text cell that starts like a formula (a brand named
    `=HYPERLINK(...)`): a leading quote keeps it text (OWASP, CSV injection). Numbers are
    left as numbers, negative ones too."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
