from django.contrib import admin

from streaming.models import MediaSegment, Stream


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "processing_mode", "analysis_enabled", "created_at"]
    list_filter = ["status", "processing_mode"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["key_rotated_at", "live_since", "created_at", "updated_at"]
    exclude = ["key_digest"]


@admin.register(MediaSegment)
class MediaSegmentAdmin(admin.ModelAdmin):
    list_display = ["stream", "seq", "program_date_time", "duration", "state"]
    list_filter = ["state"]
