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


def publish_revocations(authorised: dict) -> dict:
    """Why live publishes must end, by stream id, given the key digest each was authorised
    with: the stream was deleted, its ingest disabled, or its key rotated since. Streams
    still good are left out. One query for all of them."""
    current = {
        stream_id: (digest, enabled)
        for stream_id, digest, enabled in Stream.objects.filter(pk__in=list(authorised)).values_list(
            "pk", "key_digest", "ingest_enabled"
        )
    }
    reasons = {stream_id: _revocation(current.get(stream_id), digest) for stream_id, digest in authorised.items()}
    return {stream_id: reason for stream_id, reason in reasons.items() if reason}


def _revocation(current: tuple[str, bool] | None, authorised_digest: str) -> str | None:
    if current is None:
        return "stream deleted"
    digest, ingest_enabled = current
    if not ingest_enabled:
        return "ingest disabled"
    if digest != authorised_digest:
        return "key rotated"
    return None


def segment_list(*, stream: Stream) -> QuerySet[MediaSegment]:
    return stream.segments.order_by("seq")
