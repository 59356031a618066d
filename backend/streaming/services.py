"""Writes to streams. Each function is one thing a user or the ingest does."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from media_analyzer.files import files_delete_on_commit
from streaming.keys import key_digest, key_generate
from streaming.models import Stream


def stream_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    processing_mode: str = Stream.Mode.REALTIME,
    enabled_analyzers: list[str] | None = None,
    sampling_fps: float = 2.0,
) -> tuple[Stream, str]:
    """Returns the stream and its key; the key is not stored and cannot be read again."""
    key = key_generate()
    stream = Stream.objects.create(
        owner=owner,
        name=name,
        key_digest=key_digest(key),
        key_rotated_at=timezone.now(),
        processing_mode=processing_mode,
        enabled_analyzers=list(settings.MEDIA_ANALYZER["ANALYZERS"]) if enabled_analyzers is None else enabled_analyzers,
        sampling_fps=sampling_fps,
    )
    return stream, key


_UPDATABLE = {"name", "ingest_enabled", "processing_mode", "analysis_enabled", "enabled_analyzers", "sampling_fps"}


def stream_update(*, stream: Stream, **changes) -> Stream:
    """Mode, analyzers and sampling take effect at the stream's next segment."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise TypeError(f"not updatable: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(stream, field, value)
    stream.save(update_fields=[*changes, "updated_at"])
    return stream


def stream_rotate_key(*, stream: Stream) -> str:
    """The old key stops working at once; a live publisher keeps its session."""
    key = key_generate()
    stream.key_digest = key_digest(key)
    stream.key_rotated_at = timezone.now()
    stream.save(update_fields=["key_digest", "key_rotated_at", "updated_at"])
    return key


@transaction.atomic
def stream_delete(*, stream: Stream) -> None:
    files_delete_on_commit(segment.file for segment in stream.segments.all())
    stream.delete()
