"""Wire messages about streams (docs/protocol/messages.schema.json)."""

from streaming.models import Stream


def stream_state_message(stream: Stream) -> dict:
    return {
        "type": "stream.state",
        "stream_id": str(stream.id),
        "status": stream.status,
        "live_since": stream.live_since.isoformat() if stream.live_since else None,
        "upload_progress": stream.upload_progress,
        "status_reason": stream.status_reason,
    }
