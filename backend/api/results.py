"""Analysis results of a stream, by time range, for seeking and replay."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from ai_processing.messages import frame_message
from ai_processing.models import Detection
from ai_processing.selectors import detection_list, frame_list
from api.inputs import validated
from api.pages import TimeCursorPagination, paginated_response
from api.streams import stream_for
from media_analyzer.events import PROTOCOL_VERSION


class BoxOut(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()
    w = serializers.FloatField()
    h = serializers.FloatField()


class DetectionOut(serializers.ModelSerializer):
    box = serializers.SerializerMethodField()

    class Meta:
        model = Detection
        fields = ["id", "pts", "pdt", "analyzer", "kind", "label", "confidence", "box", "brand", "extra"]

    @extend_schema(responses=BoxOut)
    def get_box(self, detection) -> dict:
        return {"x": detection.x, "y": detection.y, "w": detection.w, "h": detection.h}


class TimeRangeIn(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Wall clock (pdt), inclusive.")
    until = serializers.DateTimeField(required=False, help_text="Wall clock (pdt), exclusive.")
    since_pts = serializers.FloatField(required=False, min_value=0, help_text="Stream time in s, inclusive.")
    until_pts = serializers.FloatField(required=False, min_value=0, help_text="Stream time in s, exclusive.")
    kind = serializers.CharField(required=False, help_text="Comma-separated kinds, e.g. object,logo.")

    def validate(self, data):
        for low, high in (("since", "until"), ("since_pts", "until_pts")):
            if low in data and high in data and data[low] >= data[high]:
                raise serializers.ValidationError({high: f"must be after {low}"})
        if "kind" in data:
            data["kinds"] = [kind.strip() for kind in data.pop("kind").split(",") if kind.strip()]
        return data


class FrameOut(serializers.BaseSerializer):
    """An `analysis.frame` exactly as the socket sends it (docs/protocol)."""

    def to_representation(self, row):
        message = frame_message(row.stream_id, row.segment.seq, row, list(row.detections.all()))
        return {**message, "v": PROTOCOL_VERSION}


class FrameListView(APIView):
    """For seeking and replay: the results of a time range in the socket's own shape."""

    @extend_schema(parameters=[TimeRangeIn], responses=OpenApiTypes.OBJECT)
    def get(self, request, stream_id):
        stream = stream_for(request, stream_id)
        time_range = validated(TimeRangeIn, request.query_params)
        time_range.pop("kinds", None)
        return paginated_response(
            request, self, frame_list(stream=stream, **time_range), FrameOut, TimeCursorPagination()
        )


class DetectionListView(APIView):
    pagination_class = TimeCursorPagination

    @extend_schema(parameters=[TimeRangeIn], responses=DetectionOut(many=True))
    def get(self, request, stream_id):
        stream = stream_for(request, stream_id)
        time_range = validated(TimeRangeIn, request.query_params)
        detections = detection_list(stream=stream, **time_range)
        return paginated_response(request, self, detections, DetectionOut, TimeCursorPagination())
