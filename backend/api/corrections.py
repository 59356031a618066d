"""Corrections of the logos found, from the exposure report: "not this brand" on an
appearance, "missed here" at a moment of a stream, and each brand's corrections to review
and undo. Owner-only: another user's stream, appearance, brand or correction is a 404."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ai_processing import services
from ai_processing.models import Brand, LogoCorrection
from ai_processing.selectors import brand_visible_to, logo_corrections_of
from api.inputs import validated
from api.streams import stream_for
from exposure.models import BrandAppearance
from exposure.services import appearance_reject


class CorrectionOut(serializers.ModelSerializer):
    box = serializers.SerializerMethodField(help_text="The logo inside the crop: x, y, w, h px.")
    image_url = serializers.SerializerMethodField(help_text="The crop (PNG), served to the brand's owner only.")

    class Meta:
        model = LogoCorrection
        fields = ["id", "brand", "kind", "stream", "pts", "width", "height", "box", "image_url", "created_at"]

    def get_box(self, correction) -> list[int]:
        return list(correction.box)

    def get_image_url(self, correction) -> str:
        return reverse("brand-correction-image", args=[correction.brand_id, correction.pk])


class RejectOut(serializers.Serializer):
    negatives = serializers.IntegerField(help_text="Crops stored as negatives of the brand (0 when the video expired).")


class BoxIn(serializers.Serializer):
    x = serializers.FloatField(min_value=0, max_value=1)
    y = serializers.FloatField(min_value=0, max_value=1)
    w = serializers.FloatField(min_value=0.005, max_value=1)
    h = serializers.FloatField(min_value=0.005, max_value=1)

    def validate(self, data):
        if data["x"] + data["w"] > 1.0001 or data["y"] + data["h"] > 1.0001:
            raise serializers.ValidationError("the box must lie inside the frame (x + w <= 1, y + h <= 1)")
        return data


class MissedIn(serializers.Serializer):
    brand = serializers.IntegerField(help_text="One of your brands.")
    pts = serializers.FloatField(required=False, min_value=0, help_text="Seconds from the stream's start.")
    at = serializers.DateTimeField(required=False, help_text="Or the wall clock (pdt) of the moment.")
    box = BoxIn(required=False, help_text="Around the logo, normalised 0..1; without it, the brand's best candidate.")

    def validate(self, data):
        if ("pts" in data) == ("at" in data):
            raise serializers.ValidationError({"pts": ["give either pts or at"]})
        data["brand"] = get_object_or_404(brand_visible_to(self.context["request"].user), pk=data["brand"])
        return data


class AppearanceRejectView(APIView):
    @extend_schema(request=None, responses=RejectOut)
    def post(self, request, stream_id, appearance_id):
        """Not this brand: the appearance's logo becomes a negative of its brand, and the
        appearance leaves the exposure at once."""
        stream = stream_for(request, stream_id)
        appearance = get_object_or_404(
            BrandAppearance.objects.select_related("brand", "stream"), stream=stream, pk=appearance_id
        )
        return Response({"negatives": appearance_reject(appearance=appearance)})


class LogoMissedView(APIView):
    @extend_schema(request=MissedIn, responses={201: CorrectionOut})
    def post(self, request, stream_id):
        """Missed here: the brand's logo is in the frame at that moment. Stored as a
        positive; the segment is checked again for logos, off the request."""
        stream = stream_for(request, stream_id)
        data = validated(MissedIn, request.data, context={"request": request})
        box = tuple(data["box"][side] for side in "xywh") if "box" in data else None
        try:
            correction = services.logo_missed(
                stream=stream, brand=data["brand"], pts=data.get("pts"), at=data.get("at"), box=box
            )
        except services.CorrectionError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(CorrectionOut(correction).data, status=201)


class BrandCorrectionListView(APIView):
    @extend_schema(responses=CorrectionOut(many=True))
    def get(self, request, brand_id):
        return Response(CorrectionOut(logo_corrections_of(_brand_for(request, brand_id)), many=True).data)


class BrandCorrectionDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, brand_id, correction_id):
        """Undo: from the next analysis on, and in the brand's rebuilt verifier."""
        services.logo_correction_delete(correction=_correction_for(request, brand_id, correction_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BrandCorrectionImageView(APIView):
    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request, brand_id, correction_id):
        correction = _correction_for(request, brand_id, correction_id)
        return FileResponse(correction.image.open("rb"), content_type="image/png")


def _brand_for(request, brand_id) -> Brand:
    return get_object_or_404(brand_visible_to(request.user), pk=brand_id)


def _correction_for(request, brand_id, correction_id) -> LogoCorrection:
    return get_object_or_404(logo_corrections_of(_brand_for(request, brand_id)), pk=correction_id)
