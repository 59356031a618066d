from django.contrib import admin

from ai_processing.models import Brand, BrandReferenceImage, Detection, FrameAnalysis, LogoCorrection


class ReferenceImageInline(admin.TabularInline):
    model = BrandReferenceImage
    extra = 0


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    inlines = [ReferenceImageInline]


@admin.register(FrameAnalysis)
class FrameAnalysisAdmin(admin.ModelAdmin):
    list_display = ["stream", "segment", "pts", "pdt"]


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = ["stream", "pdt", "kind", "label", "confidence"]
    list_filter = ["kind", "analyzer"]


@admin.register(LogoCorrection)
class LogoCorrectionAdmin(admin.ModelAdmin):
    list_display = ["brand", "kind", "stream", "pts", "created_at"]
    list_filter = ["kind"]
