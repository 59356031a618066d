"""Wire messages about analysis results (docs/protocol/messages.schema.json)."""

from ai_processing.models import Detection, FrameAnalysis


def frame_message(
    stream_id, segment_seq: int, row: FrameAnalysis, detections: list[Detection], analyzers: list[str] | None = None
) -> dict:
    """`analyzers`: the ones this message reports, when other jobs report the frame's others."""
    message = {
        "type": "analysis.frame",
        "stream_id": str(stream_id),
        "segment_seq": segment_seq,
        "pts": round(row.pts, 4),
        "pdt": row.pdt.isoformat(),
        "detections": [detection_message(detection) for detection in detections],
    }
    if analyzers is not None:
        message["analyzers"] = analyzers
    return message


def detection_message(d: Detection) -> dict:
    return {
        "analyzer": d.analyzer,
        "kind": d.kind,
        "label": d.label,
        "confidence": round(d.confidence, 4),
        "box": {"x": round(d.x, 5), "y": round(d.y, 5), "w": round(d.w, 5), "h": round(d.h, 5)},
        "extra": d.extra,
    }


def segment_message(
    segment, state: str, reason: str = "", summary: dict | None = None, degraded: dict | None = None
) -> dict:
    message = {
        "type": "analysis.segment",
        "stream_id": str(segment.stream_id),
        "segment_seq": segment.seq,
        "state": state,
    }
    if reason:
        message["reason"] = reason
    if summary is not None:
        message["summary"] = summary
    if degraded is not None:
        message["degraded"] = degraded
    return message


def segment_summary(detections: list[Detection]) -> dict:
    """What the segment looked like: detections per kind, mean brightness and motion, and
    the dominant colours of its last analysed frame."""
    counts: dict[str, int] = {}
    visual = [d.extra for d in detections if d.kind == "visual"]
    for detection in detections:
        if detection.kind != "visual":
            counts[detection.kind] = counts.get(detection.kind, 0) + 1
    motions = [extra["motion"] for extra in visual if extra.get("motion") is not None]
    return {
        "detections": counts,
        "brightness": round(sum(e["brightness"] for e in visual) / len(visual), 4) if visual else None,
        "motion": round(sum(motions) / len(motions), 4) if motions else None,
        "colours": visual[-1]["colours"] if visual else [],
    }
