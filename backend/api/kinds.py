"""`GET /api/kinds/`: the `Detection.kind` values the analyzer plug-ins produce, with the label
and colour each plug-in declares (`Kind`), so the dashboard builds its toggles and box colours
from them and a new analyzer needs no frontend change."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ai_processing.analyzers.registry import declared_kinds


class KindOut(serializers.Serializer):
    key = serializers.CharField(source="kind.key", help_text="`Detection.kind`, e.g. logo.")
    label = serializers.CharField(source="kind.label", help_text="As the dashboard names it.")
    colour = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", source="kind.colour", help_text="#rrggbb: boxes and swatch.")
    boxes = serializers.BooleanField(
        source="kind.boxes", help_text="False for whole-frame findings (scene, colours): no box is drawn."
    )
    analyzers = serializers.ListField(child=serializers.CharField(), help_text="The analyzers that produce it.")


class KindListView(APIView):
    @extend_schema(responses=KindOut(many=True))
    def get(self, request):
        return Response(KindOut(declared_kinds(), many=True).data)
