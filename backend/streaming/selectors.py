"""Reads of streams and segments, scoped to what a user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from streaming.keys import key_digest, key_matches
from streaming.models import MediaSegment, Stream


def stream_visible_to(user: AbstractBaseUser) -> QuerySet[Stream]:
    """A stream is visible to its owner and to staff."""
    streams = Stream.objects.all()
    return streams if user.is_staff else streams.filter(owner=user)


def stream_by_key(key: str) -> Stream | None:
    """The stream a publisher's key opens, or None for an unknown or disabled key."""
    stream = Stream.objects.filter(key_digest=key_digest(key), ingest_enabled=True).first()
    if stream is None or not key_matches(key, stream.key_digest):
        return None
    return stream


def segment_list(*, stream: Stream) -> QuerySet[MediaSegment]:
    return stream.segments.order_by("seq")
