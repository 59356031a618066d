"""Wire messages about analysis results (docs/protocol/messages.schema.json)."""

from ai_processing.models import Detection, FrameAnalysis


def frame_message(stream_id, segment_seq: int, row: FrameAnalysis, detections: list[Detection]) -> dict:
    return {
        "type": "analysis.frame",
        "stream_id": str(stream_id),
        "segment_seq": segment_seq,
        "pts": round(row.pts, 4),
        "pdt": row.pdt.isoformat(),
        "detections": [detection_message(detection) for detection in detections],
    }


def detection_message(d: Detection) -> dict:
    return {
        "analyzer": d.analyzer,
        "kind": d.kind,
        "label": d.label,
        "confidence": round(d.confidence, 4),
        "box": {"x": round(d.x, 5), "y": round(d.y, 5), "w": round(d.w, 5), "h": round(d.h, 5)},
        "extra": d.extra,
    }
