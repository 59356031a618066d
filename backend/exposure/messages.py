"""Wire messages about brand exposure (docs/protocol/messages.schema.json)."""

from streaming.models import Stream


def exposure_message(stream: Stream, summary: dict) -> dict:
    """Running totals per brand for the whole stream."""
    return {"type": "brand.exposure", "stream_id": str(stream.pk), "brands": summary["brands"]}


def alert_message(firing) -> dict:
    return {"type": "alert.fired", **firing.payload}
