"""Stream endpoints: thin views over streaming.services and streaming.selectors."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ai_processing.analyzers.registry import analyzer_types
from api.inputs import validated
from api.pages import paginated_response
from streaming import selectors, services
from streaming.models import MediaSegment, Stream


class StreamOut(serializers.ModelSerializer):
    ingest_url = serializers.SerializerMethodField(help_text="The RTMP server URL to give OBS.")

    class Meta:
        model = Stream
        fields = [
            "id", "name", "status", "ingest_url", "ingest_enabled", "processing_mode", "analysis_enabled",
            "enabled_analyzers", "sampling_fps", "backfill_skipped", "live_since", "upload_progress", "status_reason",
            "key_rotated_at", "created_at", "updated_at",
        ]  # fmt: skip

    def get_ingest_url(self, stream) -> str:
        return settings.CONFIG.ingest_url


class StreamWithKeyOut(StreamOut):
    stream_key = serializers.CharField(help_text="Shown once; rotate the key to get a new one.")

    class Meta(StreamOut.Meta):
        fields = [*StreamOut.Meta.fields, "stream_key"]


class StreamIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    processing_mode = serializers.ChoiceField(choices=Stream.Mode.choices, default=Stream.Mode.REALTIME)
    enabled_analyzers = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=20)
    sampling_fps = serializers.FloatField(min_value=0.1, max_value=30, default=2.0)
    ingest_enabled = serializers.BooleanField(required=False)
    analysis_enabled = serializers.BooleanField(required=False)
    backfill_skipped = serializers.BooleanField(
        required=False, help_text="Realtime mode: analyse segments skipped as stale later, for the record."
    )

    def validate_enabled_analyzers(self, names):
        unknown = sorted(set(names) - set(analyzer_types()))
        if unknown:
            raise serializers.ValidationError(f"unknown analyzer: {', '.join(unknown)}")
        return list(dict.fromkeys(names))


# Set after creation: stream_create takes what a stream is made with.
TOGGLES = ("ingest_enabled", "analysis_enabled", "backfill_skipped")


class ModeIn(serializers.Serializer):
    processing_mode = serializers.ChoiceField(choices=Stream.Mode.choices)


class SegmentOut(serializers.ModelSerializer):
    class Meta:
        model = MediaSegment
        fields = [
            "seq",
            "duration",
            "start_pts",
            "program_date_time",
            "bytes",
            "state",
            "state_reason",
            "trace",
            "created_at",
        ]


def stream_for(request, stream_id) -> Stream:
    """Another user's stream is indistinguishable from a missing one: 404."""
    return get_object_or_404(selectors.stream_visible_to(request.user), pk=stream_id)


class StreamListCreateView(APIView):
    @extend_schema(responses=StreamOut(many=True))
    def get(self, request):
        streams = selectors.stream_visible_to(request.user)
        return Response(StreamOut(streams, many=True).data)

    @extend_schema(request=StreamIn, responses={201: StreamWithKeyOut})
    def post(self, request):
        data = validated(StreamIn, request.data)
        toggles = {field: data.pop(field) for field in TOGGLES if field in data}
        stream, key = services.stream_create(owner=request.user, **data)
        if toggles:
            services.stream_update(stream=stream, **toggles)
        return Response(StreamWithKeyOut({**StreamOut(stream).data, "stream_key": key}).data, status=201)


class StreamDetailView(APIView):
    @extend_schema(responses=StreamOut)
    def get(self, request, stream_id):
        return Response(StreamOut(stream_for(request, stream_id)).data)

    @extend_schema(request=StreamIn(partial=True), responses=StreamOut)
    def patch(self, request, stream_id):
        stream = stream_for(request, stream_id)
        changes = validated(StreamIn, request.data, partial=True)
        return Response(StreamOut(services.stream_update(stream=stream, **changes)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, stream_id):
        services.stream_delete(stream=stream_for(request, stream_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StreamRotateKeyView(APIView):
    @extend_schema(request=None, responses=StreamWithKeyOut)
    def post(self, request, stream_id):
        stream = stream_for(request, stream_id)
        key = services.stream_rotate_key(stream=stream)
        return Response(StreamWithKeyOut({**StreamOut(stream).data, "stream_key": key}).data)


class StreamAnalysisView(APIView):
    """POST starts analysis, DELETE stops it; either takes effect at the next segment."""

    @extend_schema(request=None, responses=StreamOut)
    def post(self, request, stream_id):
        stream = services.stream_update(stream=stream_for(request, stream_id), analysis_enabled=True)
        return Response(StreamOut(stream).data)

    @extend_schema(request=None, responses=StreamOut)
    def delete(self, request, stream_id):
        stream = services.stream_update(stream=stream_for(request, stream_id), analysis_enabled=False)
        return Response(StreamOut(stream).data)


class StreamModeView(APIView):
    @extend_schema(request=ModeIn, responses=StreamOut)
    def put(self, request, stream_id):
        stream = stream_for(request, stream_id)
        data = validated(ModeIn, request.data)
        return Response(StreamOut(services.stream_update(stream=stream, **data)).data)


class SegmentListView(APIView):
    @extend_schema(responses=SegmentOut(many=True))
    def get(self, request, stream_id):
        segments = selectors.segment_list(stream=stream_for(request, stream_id))
        return paginated_response(request, self, segments, SegmentOut)
