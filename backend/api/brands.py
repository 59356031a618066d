"""Brand endpoints: names, aliases and reference logo images."""

from django.conf import settings
from django.db import IntegrityError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from PIL import Image
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ai_processing import services
from ai_processing.models import Brand, BrandReferenceImage
from ai_processing.selectors import brand_visible_to
from api.inputs import validated

ALLOWED_IMAGE_FORMATS = {"PNG", "JPEG", "WEBP"}
# A few KB of PNG can declare 144 megapixels (0.6 GB once the logos analyzer decodes it):
# the header's size is checked, before any pixel is decoded. Matches the analyzer's bound.
IMAGE_MAX_PIXELS = 25_000_000


class ReferenceImageOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Served to the brand's owner only.")

    class Meta:
        model = BrandReferenceImage
        fields = ["id", "url", "width", "height", "created_at"]

    def get_url(self, reference) -> str:
        return reverse("brand-image-detail", args=[reference.brand_id, reference.id])


class VerifierOut(serializers.ModelSerializer):
    """The brand's logo verifier, built from its reference images on upload."""

    state = serializers.CharField(source="verifier_state")
    seconds = serializers.FloatField(source="verifier_seconds", allow_null=True, help_text="To build.")
    precision = serializers.FloatField(
        source="verifier_precision", allow_null=True, help_text="Self-test, held-back synthetic views."
    )
    recall = serializers.FloatField(
        source="verifier_recall", allow_null=True, help_text="Self-test, held-back synthetic views."
    )
    warnings = serializers.ListField(source="verifier_warnings", child=serializers.CharField())

    class Meta:
        model = Brand
        fields = ["state", "seconds", "precision", "recall", "warnings"]


class CorrectionCountsOut(serializers.Serializer):
    negative = serializers.IntegerField(help_text="'Not this brand' crops.")
    positive = serializers.IntegerField(help_text="'Missed here' crops.")


class BrandOut(serializers.ModelSerializer):
    reference_images = ReferenceImageOut(many=True, read_only=True)
    verifier = VerifierOut(source="*", read_only=True)
    corrections = serializers.SerializerMethodField(help_text="Corrections from the exposure report, per kind.")

    class Meta:
        model = Brand
        fields = ["id", "name", "aliases", "reference_images", "verifier", "corrections", "created_at"]

    @extend_schema_field(CorrectionCountsOut)
    def get_corrections(self, brand) -> dict:
        kinds = [correction.kind for correction in brand.corrections.all()]  # prefetched by brand_visible_to
        return {"negative": kinds.count("negative"), "positive": kinds.count("positive")}


class BrandIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    aliases = serializers.ListField(child=serializers.CharField(max_length=120), required=False, max_length=50)


class ReferenceImageIn(serializers.Serializer):
    image = serializers.ImageField(help_text="PNG, JPEG or WebP, at least 16 px a side, at most 25 megapixels.")

    def validate_image(self, image):
        if image.size > settings.CONFIG.image_max_bytes:
            raise serializers.ValidationError(f"larger than {settings.CONFIG.image_max_bytes} bytes")
        image.seek(0)
        with Image.open(image) as decoded:
            if decoded.format not in ALLOWED_IMAGE_FORMATS:
                raise serializers.ValidationError(f"format {decoded.format} not allowed: use PNG, JPEG or WebP")
            if min(decoded.size) < 16:
                raise serializers.ValidationError("smaller than 16 px on a side")
            width, height = decoded.size  # from the header: Image.open decodes no pixel
            if width * height > IMAGE_MAX_PIXELS:
                raise serializers.ValidationError(
                    f"{width}x{height} px is over {IMAGE_MAX_PIXELS // 1_000_000} megapixels: scale it down"
                )
        image.seek(0)
        return image


def _brand_for(request, brand_id) -> Brand:
    return get_object_or_404(brand_visible_to(request.user), pk=brand_id)


def _unique_name(save):
    """A duplicate name is a field error, not a 500."""
    try:
        return save()
    except IntegrityError:
        raise serializers.ValidationError({"name": ["you already have a brand with this name"]}) from None


class BrandListCreateView(APIView):
    @extend_schema(responses=BrandOut(many=True))
    def get(self, request):
        return Response(BrandOut(brand_visible_to(request.user), many=True).data)

    @extend_schema(request=BrandIn, responses={201: BrandOut})
    def post(self, request):
        data = validated(BrandIn, request.data)
        brand = _unique_name(lambda: services.brand_create(owner=request.user, **data))
        return Response(BrandOut(brand).data, status=201)


class BrandDetailView(APIView):
    @extend_schema(responses=BrandOut)
    def get(self, request, brand_id):
        return Response(BrandOut(_brand_for(request, brand_id)).data)

    @extend_schema(request=BrandIn(partial=True), responses=BrandOut)
    def patch(self, request, brand_id):
        brand = _brand_for(request, brand_id)
        data = validated(BrandIn, request.data, partial=True)
        return Response(BrandOut(_unique_name(lambda: services.brand_update(brand=brand, **data))).data)

    @extend_schema(responses={204: None})
    def delete(self, request, brand_id):
        services.brand_delete(brand=_brand_for(request, brand_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BrandImageCreateView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request=ReferenceImageIn, responses={201: ReferenceImageOut})
    def post(self, request, brand_id):
        brand = _brand_for(request, brand_id)
        data = validated(ReferenceImageIn, request.data)
        reference = services.brand_reference_image_add(brand=brand, image=data["image"])
        return Response(ReferenceImageOut(reference).data, status=201)


class BrandImageDetailView(APIView):
    @extend_schema(responses={(200, "image/*"): bytes})
    def get(self, request, brand_id, image_id):
        reference = get_object_or_404(_brand_for(request, brand_id).reference_images, pk=image_id)
        return FileResponse(reference.image.open("rb"))

    @extend_schema(responses={204: None})
    def delete(self, request, brand_id, image_id):
        reference = get_object_or_404(_brand_for(request, brand_id).reference_images, pk=image_id)
        services.brand_reference_image_delete(reference=reference)
        return Response(status=status.HTTP_204_NO_CONTENT)
